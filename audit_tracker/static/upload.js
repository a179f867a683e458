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
        } else if (request.status === 409 && body.duplicate) {
          bar.classList.add("bg-warning");
          bar.style.width = "100%";
          state.textContent = body.error;
          offerDuplicate(body.duplicate, file, row);
          resolve(false);
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

  // The same file is already in the library: offer its proof instead of a silent duplicate.
  function offerDuplicate(duplicate, file, row) {
    const actions = row.querySelector("[data-actions]");
    if (!actions) { return; }
    const open = document.createElement("a");
    open.href = duplicate.url;
    open.className = "btn btn-sm btn-link";
    open.textContent = form.dataset.openLabel || "Voir la preuve existante";
    if (duplicate.link_url && !duplicate.already_linked) {
      const link = document.createElement("button");
      link.type = "button";
      link.className = "btn btn-sm btn-primary me-2";
      link.textContent = form.dataset.linkLabel || "Lier la preuve existante";
      link.addEventListener("click", function () {
        const data = new FormData();
        data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
        data.append("criterion_id", form.querySelector("input[name=criterion_id]").value);
        data.append("note", (form.querySelector("input[name=note]") || { value: "" }).value);
        data.append("next", form.dataset.doneUrl);
        fetch(duplicate.link_url, { method: "POST", body: data, credentials: "same-origin" })
          .then(function () { window.location.assign(form.dataset.doneUrl); });
      });
      actions.appendChild(link);
    }
    if (duplicate.version_url) {
      const version = document.createElement("button");
      version.type = "button";
      version.className = "btn btn-sm btn-outline-primary me-2";
      version.textContent = form.dataset.versionLabel || "En faire une nouvelle version";
      version.addEventListener("click", function () {
        const data = new FormData();
        data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
        data.append("file", file, file.name);
        const request = new XMLHttpRequest();
        request.open("POST", duplicate.version_url);
        request.setRequestHeader("X-Requested-With", "fetch");
        request.addEventListener("load", function () {
          if (request.status === 201) { window.location.assign(form.dataset.doneUrl); }
        });
        request.send(data);
      });
      actions.appendChild(version);
    }
    actions.appendChild(open);
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
