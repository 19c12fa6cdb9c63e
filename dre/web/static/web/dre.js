/* Small helpers shared by the pages. Text from devices is only ever set with
   textContent or DOM APIs, never parsed as HTML. */
"use strict";

window.dre = (function () {
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function getJSON(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  function hex(value, width) {
    if (value === null || value === undefined) return "";
    return "0x" + Number(value).toString(16).padStart(width || 8, "0");
  }

  function message(container, text, className) {
    container.replaceChildren(el("p", { className: className || "muted", text }));
  }

  return { el, getJSON, hex, message };
})();
