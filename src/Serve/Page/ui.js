"use strict";
// The page's user interface, shared by `archgen serve` (classifier.js asks the service) and the static site of
// `archgen export --web` (classifier.js runs the model in the browser): pick, photograph or drop a photo, show it,
// its five most likely classes as bars, and the model card. A classifier is
// { where, card(): Promise<card>, classify(file): Promise<{label, probability, top}>, setKey?(key) };
// an error with needsKey = true asks for an API key.
window.ArchGenUI = (() => {
  const $ = id => document.getElementById(id);
  const number = n => n === null || n === undefined ? "unknown" : n.toLocaleString("en-US");
  let classifier = null;
  let last = null;

  function status(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  function failed(e) {
    if (e.needsKey) {
      $("key-form").hidden = false;
      $("key").focus();
    }
    status(e.message, true);
  }

  async function showCard() {
    let card;
    try { card = await classifier.card(); } catch (e) { failed(e); return; }
    document.title = card.name + " · ArchGen classifier";
    $("title").textContent = card.name;
    const rows = [
      ["Name", card.name],
      ["Architecture", card.architecture || "unknown"],
      ["Classes", card.classes.length + " (" + card.classes.join(", ") + ")"],
      ["Input", card.input_channels + " x " + card.input_size + " x " + card.input_size],
      ["Parameters", number(card.parameters)],
      ["Multiply-adds per image", number(card.multiply_adds)],
      ["Test accuracy recorded", card.accuracy === null || card.accuracy === undefined ? "unknown" : card.accuracy.toFixed(2) + " %"],
      ["Flip test-time augmentation", card.flip_tta ? "yes" : "no"],
    ];
    const dl = $("card");
    dl.replaceChildren();
    for (const [name, value] of rows) {
      const dt = document.createElement("dt"); dt.textContent = name;
      const dd = document.createElement("dd"); dd.textContent = value;
      dd.id = "card-" + name.toLowerCase().replace(/[^a-z]+/g, "-");
      dl.append(dt, dd);
    }
    const body = $("layers").tBodies[0];
    body.replaceChildren();
    for (const layer of card.layers) {
      const tr = document.createElement("tr");
      for (const [value, numeric] of [[layer.name], [layer.kind], [layer.input_shape], [layer.output_shape], [number(layer.parameters), true], [number(layer.multiply_adds), true]]) {
        const td = document.createElement("td"); td.textContent = value; if (numeric) td.className = "n"; tr.append(td);
      }
      body.append(tr);
    }
  }

  async function classify(file) {
    if (!file) return;
    last = file;
    const preview = $("preview");
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    $("classes").replaceChildren();
    status("Classifying " + file.name + " …");
    let result;
    try { result = await classifier.classify(file); } catch (e) { failed(e); return; }
    const list = $("classes");
    for (const c of result.top) {
      const li = document.createElement("li");
      li.dataset.index = c.index;
      li.dataset.probability = c.probability;
      const row = document.createElement("div"); row.className = "row";
      const label = document.createElement("span"); label.className = "label"; label.textContent = c.label;
      const percent = document.createElement("span"); percent.className = "probability"; percent.textContent = (100 * c.probability).toFixed(1) + " %";
      row.append(label, percent);
      const bar = document.createElement("div"); bar.className = "bar"; bar.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span"); fill.style.width = (100 * c.probability).toFixed(1) + "%";
      bar.append(fill);
      li.append(row, bar);
      list.append(li);
    }
    status(file.name + ": " + result.label + " (" + (100 * result.probability).toFixed(1) + " %)");
  }

  function start(chosen) {
    classifier = chosen;
    $("where").textContent = classifier.where;
    for (const id of ["photo", "camera"]) $(id).addEventListener("change", e => classify(e.target.files[0]));
    const drop = $("drop");
    drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); classify(e.dataTransfer.files[0]); });
    $("key-form").addEventListener("submit", e => {
      e.preventDefault();
      classifier.setKey($("key").value.trim());
      $("key-form").hidden = true;
      status("");
      showCard();
      if (last) classify(last);
    });
    showCard();
  }

  return { start, status };
})();
