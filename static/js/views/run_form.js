// The new-run form: fills from a preset, reads back into a run config, draws the data set as its
// sliders move (POST /api/datasets/preview), and puts each 422 error next to the field it names
// (loc ["body", "dataset", "samples"] -> data-error-for="dataset.samples"), opening the folded
// section that holds it.
import { ApiError, post } from "../lib/api.js";
import { fieldMessage } from "../lib/field_errors.js";
import { DatasetView } from "./data_view.js";
import { LayerEditor } from "./layer_editor.js";
import { DEFAULT_SPEED, FEATURES, PRESETS, shapeOfKind } from "./presets.js";

const COMMON = ["samples", "noise", "seed", "test_fraction"];
const DATASET_FIELDS = {
  teacher: ["layers", "activation", ...COMMON],
  function: ["expr", "x_min", "x_max", ...COMMON],
  boundary: ["expr", ...COMMON],
  gaussians: [...COMMON, "classes"],
  spiral: [...COMMON, "classes"],
};
// Tables and drawn points bring their own rows: only the split is chosen here.
for (const kind of ["iris", "digits", "csv", "draw"]) DATASET_FIELDS[kind] = ["seed", "test_fraction"];
const PLAIN = ["loss", "learning_rate", "momentum", "batch_size", "variant", "seed", "max_steps", "start"];

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
    this.preview = new DatasetView(form.querySelector("#preview-canvas"), form.querySelector("#preview-note"));
    this.previewAsked = 0; // previews asked for; an answer older than the newest is dropped
    this.previewBusy = false;
    this.previewAgain = false;
    form.querySelector("#add-layer").addEventListener("click", () => this.layers.addHidden());
    form.querySelector("#remove-layer").addEventListener("click", () => this.layers.removeHidden());
    this.field("dataset.kind").addEventListener("change", () => this.onKindChange());
    this.field("dataset.layers").addEventListener("change", () => this.onKindChange());
    this.field("dataset.classes").addEventListener("change", () => this.followShape());
    this.featureList = form.querySelector("#feature-list");
    this.featureList.addEventListener("change", () => this.followShape());
    this.field("loss").addEventListener("change", () => this.showLossNote());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    for (const b of presetButtons) b.addEventListener("click", () => this.applyPreset(b.dataset.preset));
    // The whole config lives in the URL (as in TensorFlow Playground), so a setup can be shared.
    form.addEventListener("change", () => this.saveToUrl());
    form.addEventListener("click", (e) => e.target instanceof HTMLButtonElement && this.saveToUrl());
    // Any data set field redraws the preview as it moves (sliders fire `input` while dragged).
    form.addEventListener("input", (e) => {
      this.showSliderValues();
      if (String(e.target.name || "").startsWith("dataset.")) this.refreshPreview();
    });
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
    this.field("name").value = config.name ?? "";
    this.field("speed").value =
      config.speed === null ? "max" : String(config.speed === undefined ? DEFAULT_SPEED : config.speed);
    if (!this.field("speed").value) this.field("speed").value = String(DEFAULT_SPEED); // a speed not offered
    for (const key of PLAIN) {
      this.field(key).value = config[key] === null || config[key] === undefined ? "" : String(config[key]);
    }
    const reg = config.regularization;
    this.field("regularization.kind").value = reg ? reg.kind : "";
    if (reg) this.field("regularization.rate").value = String(reg.rate);
    const ds = config.dataset;
    this.field("dataset.kind").value = ds.kind;
    this.field("dataset.classes").value = String(ds.classes ?? 2);
    for (const [key, value] of Object.entries(ds)) {
      const el = this.field(`dataset.${key}`);
      if (el && key !== "kind") el.value = Array.isArray(value) ? value.join(", ") : String(value);
    }
    this.showFeatures(ds.features || null);
    this.showKindFields();
    this.showLossNote();
    this.showSliderValues();
    this.refreshPreview();
  }

  onKindChange() {
    this.showKindFields();
    this.showFeatures(null);
    this.followShape();
  }

  // The layer editor's ends follow the data: its inputs (features) and outputs (classes).
  followShape() {
    const data = this.readDataset();
    const shape = shapeOfKind(data.kind, parseList(this.field("dataset.layers").value), data.features, data.classes);
    if (shape) this.layers.setEnds(shape[0], shape[1]);
  }

  // One checkbox per feature a point of this kind offers; `chosen` null: the raw coordinates.
  showFeatures(chosen) {
    const dims = this.field("dataset.kind").value === "function" ? 1 : 2;
    const names = FEATURES[dims];
    const picked = new Set(chosen || names.slice(0, dims));
    this.featureList.replaceChildren(
      ...names.map((name) => {
        const label = document.createElement("label");
        label.className = "check";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = name;
        box.checked = picked.has(name);
        box.dataset.feature = name;
        label.append(box, ` ${name}`);
        return label;
      }),
    );
    this.featureList.dataset.dims = String(dims);
  }

  // The ticked features, or null when they are the raw coordinates (the default).
  readFeatures() {
    const dims = Number(this.featureList.dataset.dims || 2);
    const ticked = [...this.featureList.querySelectorAll("input:checked")].map((box) => box.value);
    const raw = FEATURES[dims].slice(0, dims);
    return ticked.length === dims && ticked.every((name, k) => name === raw[k]) ? null : ticked;
  }

  showKindFields() {
    const kind = this.field("dataset.kind").value;
    for (const el of this.form.querySelectorAll("[data-kinds]"))
      el.hidden = !el.dataset.kinds.split(" ").includes(kind);
  }

  showLossNote() {
    this.form.querySelector("#ce-note").hidden = this.field("loss").value !== "cross_entropy";
  }

  showSliderValues() {
    const noise = Number(this.field("dataset.noise").value);
    const test = Number(this.field("dataset.test_fraction").value);
    this.form.querySelector("#f-noise-out").textContent = noise.toFixed(2);
    this.form.querySelector("#f-test-out").textContent = `${Math.round(test * 100)} %`;
  }

  readDataset() {
    const kind = this.field("dataset.kind").value;
    const dataset = { kind };
    for (const key of DATASET_FIELDS[kind] || COMMON) {
      const raw = this.field(`dataset.${key}`).value;
      if (key === "layers") dataset.layers = parseList(raw);
      else if (key === "activation" || key === "expr") dataset[key] = raw;
      else dataset[key] = raw.trim() === "" ? null : Number(raw);
    }
    const ownRows = ["teacher", "iris", "digits", "csv", "draw"].includes(kind);
    const features = ownRows ? null : this.readFeatures();
    if (features) dataset.features = features;
    if (this.ownData) Object.assign(dataset, this.ownData.fields(kind));
    return dataset;
  }

  read() {
    const { layers, activation } = this.layers.value();
    const numberOrNull = (name) => (this.field(name).value.trim() === "" ? null : Number(this.field(name).value));
    const speed = this.field("speed").value;
    const penalty = this.field("regularization.kind").value;
    return {
      name: this.field("name").value.trim() || null,
      layers,
      activation,
      bias: this.field("bias").checked,
      loss: this.field("loss").value,
      learning_rate: numberOrNull("learning_rate"),
      momentum: numberOrNull("momentum") ?? 0,
      batch_size: numberOrNull("batch_size"),
      variant: this.field("variant").value,
      seed: numberOrNull("seed") ?? 0,
      dataset: this.readDataset(),
      max_steps: numberOrNull("max_steps"),
      start: this.field("start").value,
      speed: speed === "max" ? null : Number(speed),
      regularization: penalty ? { kind: penalty, rate: numberOrNull("regularization.rate") } : null,
    };
  }

  // One preview request at a time; moves made meanwhile are folded into one more request after it.
  async refreshPreview() {
    if (this.previewBusy) {
      this.previewAgain = true;
      return;
    }
    this.previewBusy = true;
    const asked = ++this.previewAsked;
    const dataset = this.readDataset();
    this.clearErrors("dataset.");
    try {
      const data = await post("/api/datasets/preview", dataset);
      if (asked === this.previewAsked) {
        this.preview.setData(data);
        this.form.querySelector("#preview-canvas").dataset.previewed = String(asked);
      }
    } catch (err) {
      // The body is the data set itself: its fields come back without the "dataset." prefix.
      if (err instanceof ApiError) err.fieldPrefix = "dataset";
      this.showErrors(err);
    } finally {
      this.previewBusy = false;
      if (this.previewAgain) {
        this.previewAgain = false;
        this.refreshPreview();
      }
    }
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

  // Clears every error, or those of the fields whose names start with `prefix`.
  clearErrors(prefix = "") {
    for (const el of this.form.querySelectorAll("[data-error-for]"))
      if (el.dataset.errorFor.startsWith(prefix)) el.textContent = "";
    for (const el of this.form.querySelectorAll("[aria-invalid]"))
      if ((el.name || el.dataset.field || "").startsWith(prefix)) el.removeAttribute("aria-invalid");
    if (!prefix) this.form.querySelector("#form-error").textContent = "";
  }

  // Longest matching prefix wins: "dataset.layers.1" lands on the teacher-layers field.
  showErrors(err) {
    const general = this.form.querySelector("#form-error");
    if (!(err instanceof ApiError) || !err.fieldErrors().length) {
      general.textContent = err instanceof ApiError ? err.describe() : `Could not reach the server: ${err}`;
      return;
    }
    const unplaced = [];
    for (const error of err.fieldErrors()) {
      const path = err.fieldPrefix && error.path !== "body" ? `${err.fieldPrefix}.${error.path}` : error.path;
      const msg = fieldMessage({ ...error, path });
      const slot = this.slotFor(path);
      if (!slot) {
        unplaced.push(`${path || "request"}: ${msg}`);
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent} ${msg}` : msg;
      const fold = slot.closest("details");
      if (fold) fold.open = true;
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
