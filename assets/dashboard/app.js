// The dashboard's only script, served from the daemon (the Content-Security-Policy allows no
// other and no inline script). Pages work without it; it adds copy buttons and points at the
// field an editor error names.
"use strict";

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  } catch (_) {
    button.textContent = "Select and copy";
  }
});

// "actions[0].config.url" → select the text of the first `"url"` key after the 1st action.
function selectErrorField(textarea) {
  const path = textarea.dataset.errorField;
  if (!path) return;
  const text = textarea.value;
  let from = 0;
  for (const part of path.split(".")) {
    const m = /^([^\[]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return;
    const at = text.indexOf(`"${m[1]}"`, from);
    if (at < 0) break;
    from = at;
    for (const index of m[2].matchAll(/\[(\d+)\]/g)) {
      // Skip to the n-th element: good enough for one object per array element.
      let n = Number(index[1]);
      let pos = text.indexOf("{", from);
      while (n-- > 0 && pos >= 0) pos = text.indexOf("\n    {", pos + 1);
      if (pos >= 0) from = pos;
    }
  }
  const last = path.split(".").pop().replace(/\[\d+\]$/, "");
  const at = text.indexOf(`"${last}"`, from);
  textarea.focus();
  if (at >= 0) textarea.setSelectionRange(at, at + last.length + 2);
}

document.querySelectorAll("textarea[data-error-field]").forEach(selectErrorField);
