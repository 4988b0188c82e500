import type { PutTransport } from "./upload-protocol.ts";

/**
 * The PUT of browsers: XMLHttpRequest reports upload progress, which fetch does not. The browser sets
 * `content-length` from the Blob itself and refuses to be given one, so that header is left out.
 * Rejects with a TypeError on network errors (like fetch) and with the signal's reason when aborted.
 */
export const xhrPut: PutTransport = ({ url, headers, body, onProgress, signal }) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => signal?.removeEventListener("abort", onAbort);
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      settle();
      resolve({ status: xhr.status, etag: xhr.getResponseHeader("etag"), text: xhr.responseText });
    };
    xhr.onerror = () => {
      settle();
      reject(new TypeError("network error"));
    };
    xhr.onabort = () => {
      settle();
      reject(signal?.reason ?? new DOMException("aborted", "AbortError"));
    };
    // A stream body would need fetch; the browser's sources are Blobs.
    xhr.send(body as Blob);
  });
