/* The issue list: "select all" for bulk actions. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", () => {
    for (const box of document.querySelectorAll('#bulk input[name="issue"]')) {
      box.checked = all.checked;
    }
  });
});
