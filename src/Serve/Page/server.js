"use strict";
// classifier.js of `archgen serve`'s page: the service classifies (POST v1/predict), with its API key when it needs one.
(() => {
  let key = sessionStorage.getItem("archgen-key") || "";

  function headers(extra) {
    const h = Object.assign({}, extra);
    if (key) h["Authorization"] = "Bearer " + key;
    return h;
  }

  async function answer(response) {
    if (response.status === 401) {
      const e = new Error(key ? "The service refused this API key; enter the right one." : "This service needs an API key.");
      e.needsKey = true;
      throw e;
    }
    let body;
    try { body = await response.json(); } catch { throw new Error("The service answered " + response.status + "."); }
    if (!response.ok) throw new Error(body.error || "The service answered " + response.status + ".");
    return body;
  }

  window.ArchGenUI.start({
    where: "The photo is sent to this service, which classifies it.",
    card: async () => answer(await fetch("v1/model", { headers: headers() })),
    classify: async file => answer(await fetch("v1/predict?top=5", {
      method: "POST", headers: headers({ "Content-Type": file.type || "application/octet-stream" }), body: file,
    })),
    setKey: k => { key = k; sessionStorage.setItem("archgen-key", key); },
  });
})();
