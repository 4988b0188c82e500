// Runs on /docs (edge-api/src/routes/meta/docs.ts) before Scalar's bundle, under the page's CSP.
//
// Style sheets: the CSP admits a <style> element only with the response's nonce. Scalar stamps it on its
// main sheet; its theme (rendered by Vue), sonner's toast sheet and CodeMirror's editor themes are made with
// document.createElement("style") and carry none, so every <style> a script creates gets the nonce here.
// A <style> in markup (the parser, innerHTML) is not created this way and stays refused.
const nonce = document.querySelector('meta[property="csp-nonce"]')?.getAttribute("content");
if (nonce) {
  const createElement = Document.prototype.createElement;
  Document.prototype.createElement = function (tagName, options) {
    const element = createElement.call(this, tagName, options);
    if (element instanceof HTMLStyleElement) element.nonce = nonce;
    return element;
  };
}

// The zod inside the bundle checks whether eval works by calling Function("") unless its global config says
// jitless; without 'unsafe-eval' that check is refused and reported as a CSP violation. zod then validates
// without generated code either way, so saying jitless up front changes nothing else.
globalThis.__zod_globalConfig = Object.assign(globalThis.__zod_globalConfig ?? {}, { jitless: true });
