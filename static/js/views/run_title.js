// The run's name in the heading and the tab's title, and renaming it (PATCH {"name": ...}). A run
// without a name is called "Run <id>".
import { ApiError, patch } from "../lib/api.js";
import { fieldMessage } from "../lib/field_errors.js";

export class RunTitle {
  constructor(root, runId) {
    this.runId = runId;
    this.el = (id) => root.querySelector(`#${id}`);
    this.name = null;
    this.form = this.el("rename-form");
    this.input = this.el("rename-input");
    this.error = this.el("rename-error");
    this.el("rename-button").addEventListener("click", () => this.edit(true));
    this.el("rename-cancel").addEventListener("click", () => this.edit(false));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
  }

  show(name) {
    this.name = name || null;
    const text = this.name || `Run ${this.runId}`;
    this.el("run-name").textContent = text;
    this.el("run-id").hidden = !this.name; // an unnamed run's heading already holds its id
    document.title = `${text} · backprop-live`;
  }

  edit(open) {
    this.form.hidden = !open;
    this.el("rename-button").hidden = open;
    this.error.textContent = "";
    this.input.removeAttribute("aria-invalid");
    if (open) {
      this.input.value = this.name || "";
      this.input.focus();
    }
  }

  async save() {
    try {
      const name = this.input.value.trim() || null;
      const run = await patch(`/api/runs/${this.runId}`, { name });
      this.show(run.config.name);
      if ((run.config.name ?? null) !== name) {
        // A server that accepts the field but keeps the old name: say so rather than pretend.
        this.error.textContent = "The server kept the old name: renaming is not available on it.";
        return;
      }
      this.edit(false);
    } catch (err) {
      const field = err instanceof ApiError ? err.fieldErrors().find((e) => e.path === "name") : null;
      this.error.textContent = field ? fieldMessage(field) : err instanceof ApiError ? err.describe() : String(err);
      this.input.setAttribute("aria-invalid", "true");
    }
  }
}
