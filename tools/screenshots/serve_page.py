#!/usr/bin/python3
"""The screenshot of archgen serve's page in docs/deploy.md, with a trained model and a photo it did not train on.

Starts `archgen serve --checkpoint RUN`, opens its page in Debian's headless Chromium through chromium-driver (the W3C
WebDriver protocol, spoken with the standard library), uploads PHOTO, waits for the classes and saves the page as PNG.

Usage: tools/screenshots/serve_page.py ARCHGEN_DLL RUN PHOTO OUT.png
   or: tools/screenshots/serve_page.py --fashion-mnist-test INDEX OUT.png   (writes that test image, 8x, as a PNG)
"""
import base64
import gzip
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


class Browser:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        capabilities = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1500", "--lang=en-US"]}}}}
        self.session = self.call("POST", "/session", capabilities)["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())["value"]

    def do(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def elements(self, css):
        return self.do("POST", "/elements", {"using": "css selector", "value": css})

    def until(self, what, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            value = what()
            if value:
                return value
            time.sleep(0.2)
        raise SystemExit(f"the page did not get there within {seconds} s")


def fashion_mnist_test(index, out):
    from PIL import Image
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
        data = f.read()
    pixels = data[16 + 784 * index:16 + 784 * (index + 1)]
    Image.frombytes("L", (28, 28), pixels).resize((224, 224), Image.NEAREST).save(out)


def main(argv):
    if len(argv) == 3 and argv[0] == "--fashion-mnist-test":
        fashion_mnist_test(int(argv[1]), argv[2])
        return
    if len(argv) != 4:
        raise SystemExit(__doc__)
    app, run, photo, out = argv
    serve_port, driver_port = free_port(), free_port()
    server = subprocess.Popen(["dotnet", app, "serve", "--checkpoint", run, "--port", str(serve_port)], stderr=subprocess.DEVNULL)
    driver = subprocess.Popen(["/usr/bin/chromedriver", f"--port={driver_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{serve_port}/readyz")
        wait_for(f"http://127.0.0.1:{driver_port}/status")
        browser = Browser(driver_port)
        browser.do("POST", "/url", {"url": f"http://127.0.0.1:{serve_port}/"})
        browser.until(lambda: browser.elements("#layers tbody tr"))
        field = browser.elements("#photo")[0]
        element = next(iter(field.values()))
        path = os.path.abspath(photo)
        browser.do("POST", f"/element/{element}/value", {"text": path, "value": list(path)})
        browser.until(lambda: browser.elements("#classes li"))
        time.sleep(0.5)  # the bars' transition
        with open(out, "wb") as f:
            f.write(base64.b64decode(browser.do("GET", "/screenshot")))
        browser.do("DELETE", "")
        print(f"wrote {out}")
    finally:
        driver.terminate()
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main(sys.argv[1:])
