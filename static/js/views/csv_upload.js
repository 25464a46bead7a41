// Own data from a CSV file: upload it (POST /api/datasets, the file as the body), then say which
// columns are inputs and which one is the target. The run form asks fields() for the dataset's
// csv fields and shape() for the network's first and last layer.
import { ApiError } from "../lib/api.js";
import { escapeHtml } from "../lib/html.js";

export async function uploadCsv(body) {
  const response = await fetch("/api/datasets", {
    method: "POST",
    headers: { "Content-Type": "text/csv", Accept: "application/json" },
    body,
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data?.detail ?? response.statusText);
  return data;
}

export class CsvUpload {
  constructor(root, { onShape }) {
    this.root = root;
    this.onShape = onShape;
    this.info = null;
    this.file = root.querySelector("[data-csv=file]");
    this.status = root.querySelector("[data-csv=status]");
    this.columns = root.querySelector("[data-csv=columns]");
    this.labels = root.querySelector("[data-csv=labels]");
    this.file.addEventListener("change", () => this.file.files[0] && this.upload(this.file.files[0]));
    this.columns.addEventListener("change", () => this.onShape(this.shape()));
    this.labels.addEventListener("change", () => this.onShape(this.shape()));
  }

  async upload(file) {
    this.status.textContent = `Uploading ${file.name}…`;
    this.status.classList.remove("field-error");
    try {
      this.info = await uploadCsv(file);
    } catch (err) {
      this.info = null;
      this.columns.replaceChildren();
      this.status.classList.add("field-error");
      this.status.textContent = err instanceof ApiError ? `Not stored: ${err.describe()}` : String(err);
      return;
    }
    const { rows, columns } = this.info;
    this.status.textContent = `${file.name}: ${rows.toLocaleString()} rows, ${columns.length} columns. Inputs are standardised (z-scores of the training rows).`;
    this.renderColumns();
    this.onShape(this.shape());
  }

  // Every numeric column an input, the last column the target, until the user says otherwise.
  renderColumns() {
    const last = this.info.columns.length - 1;
    this.columns.innerHTML = this.info.columns
      .map((c, k) => {
        const role = k === last ? "target" : c.kind === "number" ? "input" : "ignore";
        const options = ["input", "target", "ignore"]
          .filter((r) => r !== "input" || c.kind === "number")
          .map((r) => `<option value="${r}"${r === role ? " selected" : ""}>${r}</option>`)
          .join("");
        const name = escapeHtml(c.name);
        return `<label class="csv-column">${name} <span class="muted small">(${c.kind}, ${c.distinct} values)</span>
          <select data-column="${name}" data-testid="csv-role-${name}">${options}</select></label>`;
      })
      .join("");
  }

  roles(role) {
    return [...this.columns.querySelectorAll("select")].filter((s) => s.value === role).map((s) => s.dataset.column);
  }

  // Class labels: a text target, or a numeric one with the box ticked; one output for two classes.
  shape() {
    if (!this.info) return null;
    const targets = this.roles("target");
    const column = this.info.columns.find((c) => c.name === targets[0]);
    const labels = targets.length === 1 && (column.kind === "text" || this.labels.checked);
    const outputs = labels ? (column.distinct === 2 ? 1 : column.distinct) : targets.length;
    return [this.roles("input").length, Math.max(outputs, 1)];
  }

  fields() {
    if (!this.info) return {};
    return {
      id: this.info.id,
      inputs: this.roles("input"),
      targets: this.roles("target"),
      labels: this.labels.checked,
    };
  }
}
