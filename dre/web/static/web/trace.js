/* The trace page: lazy variable trees, the selected frame's registers and disassembly,
   the memory viewer and the globals search. Data comes from the page's JSON endpoints;
   every string from the device or its firmware is inserted as text. */
"use strict";

(function () {
  const { el, getJSON, hex, message } = window.dre;
  const config = JSON.parse(document.getElementById("trace-config").textContent);
  const base = config.base;
  const frameUrl = (t, f, what) => `${base}threads/${t}/frames/${f}/${what}.json`;
  let selected = null;
  // Each panel shows the answer to its latest request; a slower earlier answer is dropped.
  const requests = {};
  const ask = (panel) => (requests[panel] = (requests[panel] || 0) + 1);
  const stale = (panel, mine) => requests[panel] !== mine;

  // -- variable trees ------------------------------------------------------------------

  function memoryLink(address, label, title) {
    return el("a", {
      href: "#memory",
      className: "memory-link",
      title: title || "show in the memory viewer",
      text: label,
      onclick: (event) => {
        event.preventDefault();
        showMemory(hex(address));
      },
    });
  }

  function nodeItem(node) {
    const item = el("li", { className: "node" });
    const line = el("div", { className: "node-line" });
    let children = null;
    if (node.expandable) {
      const toggle = el("button", {
        type: "button",
        className: "toggle",
        "aria-expanded": "false",
        "aria-label": `expand ${node.name}`,
        text: "▸",
      });
      toggle.addEventListener("click", async () => {
        const open = toggle.getAttribute("aria-expanded") === "true";
        toggle.setAttribute("aria-expanded", String(!open));
        toggle.textContent = open ? "▸" : "▾";
        if (open) {
          children.hidden = true;
          return;
        }
        children.hidden = false;
        if (!children.dataset.loaded) {
          children.dataset.loaded = "1";
          await loadChildren(node, children, 0);
        }
      });
      line.append(toggle);
    } else {
      line.append(el("span", { className: "toggle-space" }));
    }
    line.append(
      el("span", { className: "name", text: node.name }),
      " ",
      el("span", { className: "type", text: node.type }),
      " = ",
      el("span", { className: "value", text: node.text })
    );
    if (node.entry && !node.entry_matches) {
      line.append(" ", el("span", { className: "entry", text: `${node.name}@entry = ${node.entry}` }));
    }
    if (node.points_to !== null && node.points_to !== undefined) {
      line.append(" ", memoryLink(node.points_to, "→ memory", "show what it points to"));
    }
    if (node.at !== null && node.at !== undefined) {
      line.append(" ", memoryLink(node.at, `@${hex(node.at)}`, "show its bytes"));
    }
    item.append(line);
    if (node.expandable) {
      children = el("ul", { className: "tree", hidden: true });
      item.append(children);
    }
    return item;
  }

  async function loadChildren(node, list, offset) {
    const params = new URLSearchParams({
      root: JSON.stringify(node.root),
      path: node.path.join("."),
      offset: String(offset),
    });
    try {
      const answer = await getJSON(`${base}variables/children.json?${params}`);
      for (const child of answer.children) list.append(nodeItem(child));
      if (answer.more !== null) {
        const more = el("li", {}, el("button", { type: "button", className: "more", text: "more…" }));
        more.firstChild.addEventListener("click", async () => {
          more.remove();
          await loadChildren(node, list, answer.more);
        });
        list.append(more);
      }
    } catch (error) {
      list.append(el("li", { className: "error", text: error.message }));
    }
  }

  function tree(nodes) {
    const list = el("ul", { className: "tree" });
    for (const node of nodes) list.append(nodeItem(node));
    return list;
  }

  async function loadVariables(frameItem) {
    const box = frameItem.querySelector(".variables");
    if (!box || box.dataset.loaded) return;
    box.dataset.loaded = "1";
    message(box, "Loading variables…");
    const { thread, frame } = frameItem.dataset;
    try {
      const answer = await getJSON(frameUrl(thread, frame, "variables"));
      box.replaceChildren();
      for (const [kind, label] of [["arguments", "Arguments"], ["locals", "Locals"]]) {
        const nodes = answer[kind];
        box.append(el("h4", { text: label }));
        box.append(nodes.length ? tree(nodes) : el("p", { className: "muted", text: "none" }));
      }
    } catch (error) {
      message(box, error.message, "error");
    }
  }

  // -- the selected frame: registers and disassembly --------------------------------------

  function selectFrame(frameItem) {
    if (selected) selected.classList.remove("selected");
    selected = frameItem;
    frameItem.classList.add("selected");
    const { thread, frame } = frameItem.dataset;
    const name = frameItem.querySelector(".function, .separator");
    const heading = document.getElementById("selected-frame");
    heading.textContent = `Frame #${frame} `;
    heading.append(el("span", { className: "muted", text: name ? name.textContent.trim() : "" }));
    loadRegisters(thread, frame);
    loadDisassembly(thread, frame);
  }

  const HOW = {
    context: "from the coredump or the thread's saved context",
    recovered: "recovered by the unwinder for this frame",
    carried: "unchanged from the frame below",
    unknown: "the unwinder could not recover it",
  };

  async function loadRegisters(thread, frame) {
    const panel = document.getElementById("panel-registers");
    const mine = ask("registers");
    message(panel, "Loading registers…");
    try {
      const answer = await getJSON(frameUrl(thread, frame, "registers"));
      if (stale("registers", mine)) return;
      const body = el("tbody");
      for (const row of answer.registers) {
        const value = row.value === null ? el("span", { className: "unknown", text: "<unknown>" }) : hex(row.value);
        const cell = el("td", { className: "value" }, value);
        if (row.points_to !== null && row.points_to !== undefined) cell.append(" ", memoryLink(row.points_to, "→"));
        body.append(
          el(
            "tr",
            { className: `register ${row.how}`, dataset: { register: row.name } },
            el("th", { text: row.name }),
            cell,
            el("td", { className: "how", title: HOW[row.how], text: row.how })
          )
        );
      }
      panel.replaceChildren(
        el("p", { className: "muted", text: `Found by: ${answer.hint || "unknown"}. The first frame's registers come from ${answer.context}.` }),
        el("table", { className: "registers" }, body)
      );
    } catch (error) {
      message(panel, error.message, "error");
    }
  }

  async function loadDisassembly(thread, frame) {
    const panel = document.getElementById("panel-disassembly");
    const mine = ask("disassembly");
    message(panel, "Loading disassembly…");
    try {
      const answer = await getJSON(frameUrl(thread, frame, "disassembly"));
      if (stale("disassembly", mine)) return;
      if (!answer.instructions.length) {
        message(panel, answer.note || "No code here.");
        return;
      }
      const body = el("tbody");
      for (const insn of answer.instructions) {
        if (insn.source) {
          body.append(el("tr", { className: "source-line" }, el("td", { colspan: "5", text: insn.source })));
        }
        const operands = el("td", { className: "operands", text: insn.operands });
        if (insn.target_name) operands.append(" ", el("span", { className: "target", text: insn.target_name }));
        body.append(
          el(
            "tr",
            { className: insn.is_pc ? "insn at-pc" : insn.data ? "insn data" : "insn" },
            el("td", { className: "marker", text: insn.is_pc ? "=>" : "" }),
            el("td", { className: "address", text: hex(insn.address) }, insn.symbol ? el("span", { className: "muted", text: ` ${insn.symbol}` }) : null),
            el("td", { className: "encoding", text: insn.encoding }),
            el("td", { className: "mnemonic", text: insn.mnemonic }),
            operands
          )
        );
      }
      panel.replaceChildren(el("table", { className: "disassembly" }, body));
    } catch (error) {
      message(panel, error.message, "error");
    }
  }

  function setupTabs() {
    const buttons = document.querySelectorAll(".inspector [role=tab]");
    for (const button of buttons) {
      button.addEventListener("click", () => {
        for (const other of buttons) {
          const on = other === button;
          other.setAttribute("aria-selected", String(on));
          document.getElementById(`panel-${other.dataset.tab}`).hidden = !on;
        }
      });
    }
  }

  function setupFrames() {
    for (const item of document.querySelectorAll("li.frame")) {
      const details = item.querySelector("details.frame-details");
      if (details) {
        details.addEventListener("toggle", () => {
          if (details.open) {
            selectFrame(item);
            loadVariables(item);
          }
        });
      } else {
        const separator = item.querySelector(".separator");
        separator.addEventListener("click", () => selectFrame(item));
        separator.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") selectFrame(item);
        });
      }
    }
  }

  function openCrashingFrame() {
    const first = document.querySelector(`li.frame[data-thread="${config.crashed}"]`);
    if (!first) return;
    const details = first.querySelector("details.frame-details");
    if (details) details.open = true; // its toggle event selects it and loads its variables
    else selectFrame(first);
  }

  // -- memory ----------------------------------------------------------------------------

  const memory = { previous: null, next: null };

  function byteCell(value, source, highlighted) {
    if (value === null) return el("span", { className: "byte missing", title: "not captured", text: "??" });
    const className = `byte ${source}${highlighted ? " target" : ""}`;
    return el("span", { className, text: value.toString(16).padStart(2, "0") });
  }

  async function showMemory(at, scroll = true) {
    const view = document.getElementById("memory-view");
    document.getElementById("memory-at").value = at;
    if (scroll) document.getElementById("memory").scrollIntoView({ block: "start" });
    const mine = ask("memory");
    message(view, "Loading memory…");
    try {
      const answer = await getJSON(`${base}memory.json?${new URLSearchParams({ at })}`);
      if (stale("memory", mine)) return;
      memory.previous = answer.previous;
      memory.next = answer.next;
      const body = el("tbody");
      for (const row of answer.rows) {
        const bytes = el("td", { className: "bytes" });
        row.bytes.forEach((value, n) => {
          bytes.append(byteCell(value, row.sources[n], row.address + n === answer.address));
          if (n === 7) bytes.append(" ");
        });
        body.append(
          el(
            "tr",
            {},
            el("td", { className: "address", text: hex(row.address) }),
            bytes,
            el("td", { className: "ascii", text: row.ascii }),
            el("td", { className: "symbol muted", text: row.symbol || "" })
          )
        );
      }
      view.replaceChildren(el("table", { className: "hex" }, body));
    } catch (error) {
      message(view, error.message, "error");
    }
  }

  async function loadRegions() {
    const body = document.querySelector("#memory-regions tbody");
    try {
      const answer = await getJSON(`${base}regions.json`);
      body.replaceChildren();
      for (const region of answer.regions) {
        body.append(
          el(
            "tr",
            { className: `region ${region.source}` },
            el("td", {}, memoryLink(region.start, `${hex(region.start)}–${hex(region.end)}`)),
            el("td", { text: `${region.end - region.start} B` }),
            el("td", { text: region.source === "elf" ? "ELF" : "coredump" }),
            el("td", { className: "muted", text: region.name })
          )
        );
      }
    } catch (error) {
      body.replaceChildren(el("tr", {}, el("td", { className: "error", text: error.message })));
    }
  }

  function setupMemory() {
    document.getElementById("memory-jump").addEventListener("submit", (event) => {
      event.preventDefault();
      const at = document.getElementById("memory-at").value.trim();
      if (at) showMemory(at);
    });
    document.getElementById("memory-previous").addEventListener("click", () => {
      if (memory.previous !== null) showMemory(hex(memory.previous));
    });
    document.getElementById("memory-next").addEventListener("click", () => {
      if (memory.next !== null) showMemory(hex(memory.next));
    });
    loadRegions();
    if (config.memory) showMemory(config.memory, false);
  }

  // -- globals ---------------------------------------------------------------------------

  async function searchGlobals(query, offset) {
    const list = document.getElementById("globals-list");
    const count = document.getElementById("globals-count");
    const mine = ask("globals");
    if (!offset) message(list, "Searching…");
    try {
      const params = new URLSearchParams({ q: query, offset: String(offset || 0) });
      const answer = await getJSON(`${base}globals.json?${params}`);
      if (stale("globals", mine)) return;
      count.textContent = `${answer.total} found`;
      const items = answer.globals.map((g) => {
        const item = nodeItem(Object.assign({}, g, { points_to: null }));
        item.querySelector(".node-line").append(
          " ",
          el("span", { className: "muted", text: g.static ? `static in ${g.file}` : g.file })
        );
        return item;
      });
      let tree_ = list.querySelector("ul.tree");
      if (!offset || !tree_) {
        tree_ = el("ul", { className: "tree globals" });
        list.replaceChildren(tree_);
      }
      tree_.append(...items);
      if (answer.more !== null) {
        const more = el("button", { type: "button", className: "more", text: "more…" });
        more.addEventListener("click", () => {
          more.remove();
          searchGlobals(query, answer.more);
        });
        list.append(more);
      }
    } catch (error) {
      message(list, error.message, "error");
    }
  }

  function setupGlobals() {
    const form = document.getElementById("globals-search");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      searchGlobals(document.getElementById("globals-q").value, 0);
    });
    let timer = null;
    document.getElementById("globals-q").addEventListener("input", (event) => {
      clearTimeout(timer);
      timer = setTimeout(() => searchGlobals(event.target.value, 0), 250);
    });
    // Printing every global costs the server a moment: list them once the section shows.
    const section = document.getElementById("globals");
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        if (!document.querySelector("#globals-list ul")) searchGlobals("", 0);
      }
    });
    observer.observe(section);
  }

  // -- analyses: links into the frames and the memory viewer --------------------------------

  function showFrame(thread, frame) {
    const item = document.querySelector(`li.frame[data-thread="${thread}"][data-frame="${frame}"]`);
    if (!item) return;
    item.closest("details.thread").open = true;
    const details = item.querySelector("details.frame-details");
    if (details && !details.open) details.open = true; // its toggle event selects it
    else selectFrame(item);
    item.scrollIntoView({ block: "center" });
  }

  function setupAnalyses() {
    for (const link of document.querySelectorAll("#analyses a.frame-link")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        showFrame(config.crashed, link.dataset.frame);
      });
    }
    for (const link of document.querySelectorAll("#analyses a.memory-jump")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        showMemory(link.dataset.at);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupTabs();
    setupAnalyses();
    setupFrames();
    setupMemory();
    setupGlobals();
    openCrashingFrame();
  });
})();
