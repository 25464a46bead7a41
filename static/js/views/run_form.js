// The new-run form: fills from a preset, reads back into a run config, and puts each 422 error
// next to the field it names (loc ["body", "dataset", "samples"] -> data-error-for="dataset.samples").
import { ApiError, post } from "../lib/api.js";
import { LayerEditor } from "./layer_editor.js";
import { PRESETS, shapeOfKind } from "./presets.js";

const DATASET_FIELDS = {
  teacher: ["layers", "activation", "samples", "noise", "seed", "test_fraction"],
  function: ["expr", "x_min", "x_max", "samples", "noise", "seed", "test_fraction"],
};
const COMMON = ["samples", "noise", "seed", "test_fraction"];
// Tables and drawn points bring their own rows: only the split is chosen here.
for (const kind of ["iris", "digits", "csv", "draw"]) DATASET_FIELDS[kind] = ["seed", "test_fraction"];

export class RunForm {
  // ownData (views/own_data.js), optional: extra dataset fields for a kind, and a last step
  // before the config is sent (uploading drawn points).
  constructor(form, { presetButtons, presetNote, onCreated, ownData = null }) {
    this.form = form;
    this.ownData = ownData;
    this.onCreated = onCreated;
    this.presetNote = presetNote;
    this.presetButtons = presetButtons;
    this.layers = new LayerEditor(form.querySelector("#layers"));
    this.field = (name) => form.elements.namedItem(name);
    form.querySelector("#add-layer").addEventListener("click", () => this.layers.addHidden());
    form.querySelector("#remove-layer").addEventListener("click", () => this.layers.removeHidden());
    this.field("dataset.kind").addEventListener("change", () => this.onKindChange());
    this.field("dataset.layers").addEventListener("change", () => this.onKindChange());
    this.field("loss").addEventListener("change", () => this.showLossNote());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    for (const b of presetButtons) b.addEventListener("click", () => this.applyPreset(b.dataset.preset));
    // The whole config lives in the URL (as in TensorFlow Playground), so a setup can be shared.
    form.addEventListener("change", () => this.saveToUrl());
    form.addEventListener("click", (e) => e.target instanceof HTMLButtonElement && this.saveToUrl());
  }

  saveToUrl() {
    history.replaceState(null, "", `#config=${encodeURIComponent(JSON.stringify(this.read()))}`);
  }

  // True when the URL carried a config (then it wins over the default preset).
  loadFromUrl() {
    const match = location.hash.match(/^#config=(.+)$/);
    if (!match) return false;
    try {
      this.fill(JSON.parse(decodeURIComponent(match[1])));
      return true;
    } catch {
      return false;
    }
  }

  applyPreset(name) {
    const preset = PRESETS[name];
    this.fill(preset.config);
    this.presetNote.textContent = preset.note;
    for (const b of this.presetButtons) b.setAttribute("aria-pressed", String(b.dataset.preset === name));
    this.clearErrors();
    this.saveToUrl();
  }

  fill(config) {
    this.layers.set(config.layers, config.activation);
    this.field("bias").checked = config.bias;
    for (const key of ["loss", "learning_rate", "momentum", "batch_size", "variant", "seed", "max_steps", "start"]) {
      this.field(key).value = config[key] === null || config[key] === undefined ? "" : String(config[key]);
    }
    const ds = config.dataset;
    this.field("dataset.kind").value = ds.kind;
    for (const [key, value] of Object.entries(ds)) {
      const el = this.field(`dataset.${key}`);
      if (el && key !== "kind") el.value = Array.isArray(value) ? value.join(", ") : String(value);
    }
    this.showKindFields();
    this.showLossNote();
  }

  onKindChange() {
    this.showKindFields();
    const kind = this.field("dataset.kind").value;
    const shape = shapeOfKind(kind, parseList(this.field("dataset.layers").value));
    if (shape) this.layers.setEnds(shape[0], shape[1]);
  }

  showKindFields() {
    const kind = this.field("dataset.kind").value;
    for (const el of this.form.querySelectorAll("[data-kinds]"))
      el.hidden = !el.dataset.kinds.split(" ").includes(kind);
  }

  showLossNote() {
    this.form.querySelector("#ce-note").hidden = this.field("loss").value !== "cross_entropy";
  }

  read() {
    const { layers, activation } = this.layers.value();
    const numberOrNull = (name) => (this.field(name).value.trim() === "" ? null : Number(this.field(name).value));
    const kind = this.field("dataset.kind").value;
    const dataset = { kind };
    for (const key of DATASET_FIELDS[kind] || COMMON) {
      const raw = this.field(`dataset.${key}`).value;
      if (key === "layers") dataset.layers = parseList(raw);
      else if (key === "activation" || key === "expr") dataset[key] = raw;
      else dataset[key] = raw.trim() === "" ? null : Number(raw);
    }
    if (this.ownData) Object.assign(dataset, this.ownData.fields(kind));
    return {
      layers,
      activation,
      bias: this.field("bias").checked,
      loss: this.field("loss").value,
      learning_rate: numberOrNull("learning_rate"),
      momentum: numberOrNull("momentum") ?? 0,
      batch_size: numberOrNull("batch_size"),
      variant: this.field("variant").value,
      seed: numberOrNull("seed") ?? 0,
      dataset,
      max_steps: numberOrNull("max_steps"),
      start: this.field("start").value,
    };
  }

  async submit() {
    this.clearErrors();
    const button = this.form.querySelector("[type=submit]");
    button.disabled = true;
    try {
      const config = this.ownData ? await this.ownData.prepare(this.read()) : this.read();
      const run = await post("/api/runs", config);
      this.onCreated(run);
    } catch (err) {
      this.showErrors(err);
    } finally {
      button.disabled = false;
    }
  }

  clearErrors() {
    for (const el of this.form.querySelectorAll("[data-error-for]")) el.textContent = "";
    for (const el of this.form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    this.form.querySelector("#form-error").textContent = "";
  }

  // Longest matching prefix wins: "dataset.layers.1" lands on the teacher-layers field.
  showErrors(err) {
    const general = this.form.querySelector("#form-error");
    if (!(err instanceof ApiError) || !err.fieldErrors().length) {
      general.textContent = err instanceof ApiError ? err.describe() : `Could not reach the server: ${err}`;
      return;
    }
    const unplaced = [];
    for (const { path, msg } of err.fieldErrors()) {
      const slot = this.slotFor(path);
      if (!slot) {
        unplaced.push(`${path || "request"}: ${msg}`);
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent} ${msg}` : msg;
      const input = this.form.querySelector(
        `[name="${slot.dataset.errorFor}"], [data-field="${slot.dataset.errorFor}"]`,
      );
      if (input) input.setAttribute("aria-invalid", "true");
    }
    general.textContent = unplaced.length ? unplaced.join("; ") : "Please fix the fields marked in red.";
  }

  slotFor(path) {
    const parts = path.split(".");
    for (let n = parts.length; n > 0; n--) {
      const slot = this.form.querySelector(`[data-error-for="${CSS.escape(parts.slice(0, n).join("."))}"]`);
      if (slot && !slot.closest("[hidden]")) return slot;
    }
    return null;
  }
}

function parseList(text) {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
}
