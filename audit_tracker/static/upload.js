// Evidence upload page: shows only the fields of the chosen kind, and sends several files one
// request each, with a progress bar per file. Without JavaScript the form still posts normally
// (then one file at a time).
(function () {
  "use strict";
  const form = document.getElementById("evidence-form");
  if (!form) { return; }
  const kind = form.querySelector("select[name=kind]");
  const fileInput = form.querySelector("input[type=file]");
  const list = document.getElementById("upload-progress");
  const rowTemplate = document.getElementById("progress-row");

  function showKind() {
    form.querySelectorAll("[data-kind]").forEach(function (block) {
      block.hidden = block.dataset.kind !== kind.value;
    });
  }
  kind.addEventListener("change", showKind);
  showKind();

  function sendOne(file, row) {
    return new Promise(function (resolve) {
      const data = new FormData(form);
      data.delete("file");
      data.append("file", file, file.name);
      const request = new XMLHttpRequest();
      const bar = row.querySelector(".progress-bar");
      const state = row.querySelector("[data-state]");
      request.open("POST", form.dataset.uploadUrl);
      request.setRequestHeader("X-Requested-With", "fetch");
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          const percent = Math.round((event.loaded / event.total) * 100);
          bar.style.width = percent + "%";
          bar.parentElement.setAttribute("aria-valuenow", String(percent));
        }
      });
      request.addEventListener("load", function () {
        let body = {};
        try { body = JSON.parse(request.responseText); } catch (ignored) { body = {}; }
        if (request.status === 201) {
          bar.classList.add("bg-success");
          bar.style.width = "100%";
          state.textContent = "✓";
          resolve(true);
        } else {
          bar.classList.add("bg-danger");
          state.textContent = body.error || ("HTTP " + request.status);
          state.classList.replace("text-muted", "text-danger");
          resolve(false);
        }
      });
      request.addEventListener("error", function () {
        bar.classList.add("bg-danger");
        state.textContent = form.dataset.networkError || "réseau indisponible";
        resolve(false);
      });
      request.send(data);
    });
  }

  form.addEventListener("submit", function (event) {
    if (kind.value !== "fichier" || !fileInput.files.length) { return; }
    event.preventDefault();
    // One batch at a time: a second click while sending would upload every file twice.
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    list.replaceChildren();
    const files = Array.from(fileInput.files);
    const rows = files.map(function (file) {
      const row = rowTemplate.content.firstElementChild.cloneNode(true);
      row.querySelector("[data-name]").textContent = file.name;
      list.appendChild(row);
      return row;
    });
    // One after the other: each request stays under the size limit and the server's memory.
    files.reduce(function (previous, file, index) {
      return previous.then(function (results) {
        return sendOne(file, rows[index]).then(function (ok) { return results.concat(ok); });
      });
    }, Promise.resolve([])).then(function (results) {
      if (results.every(Boolean)) { window.location.assign(form.dataset.doneUrl); }
      button.disabled = false;  // some were refused: the user may fix them and send again
    });
  });
}());
