// Set a weight by hand, as Playground lets a class do: on a paused run, click an edge (or a
// neuron, for its bias), type a value, press Set. The server records the edit at the run's step,
// before its next update, so every later step still replays exactly.
import { ApiError, patch } from "../lib/api.js";

export class WeightEditor {
  // inspector: finds what is under the pointer; canEdit(): whether the run is paused now;
  // onEdited(answer): the server's weights after the edit.
  constructor(root, runId, { canvas, inspector, canEdit, onEdited }) {
    this.runId = runId;
    this.inspector = inspector;
    this.canEdit = canEdit;
    this.onEdited = onEdited;
    this.form = root.querySelector("#weight-editor");
    this.label = root.querySelector("#weight-target");
    this.input = root.querySelector("#weight-input");
    this.error = root.querySelector("#weight-error");
    this.target = null;
    canvas.addEventListener("click", (e) => this.pick(e, canvas));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    root.querySelector("#weight-cancel").addEventListener("click", () => this.close());
  }

  pick(event, canvas) {
    if (!this.canEdit()) return;
    const rect = canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const hit = this.inspector.hitNeuron(x, y) || this.inspector.hitEdge(x, y);
    if (!hit || (hit.kind === "neuron" && hit.l === 0)) return; // inputs have no bias
    this.open(hit);
  }

  // hit: an edge {l, i, j} of weight layer l, or a neuron {l, j} whose bias is in weight layer l − 1.
  open(hit) {
    const weights = this.inspector.view.shownWeights();
    if (hit.kind === "edge") {
      this.target = { layer: hit.l, from: hit.i, to: hit.j };
      this.label.textContent = `weight from neuron ${hit.i} of layer ${hit.l} to neuron ${hit.j} of layer ${hit.l + 1}`;
      this.input.value = String(weights[hit.l].get(hit.i, hit.j));
    } else {
      this.target = { layer: hit.l - 1, bias: true, to: hit.j };
      this.label.textContent = `bias of neuron ${hit.j} of layer ${hit.l}`;
      this.input.value = String(this.inspector.view.biases[hit.l - 1][hit.j]);
    }
    Object.assign(this.form.dataset, { layer: this.target.layer, to: this.target.to, from: this.target.from ?? "" });
    this.error.textContent = "";
    this.form.hidden = false;
    this.input.focus();
    this.input.select();
  }

  async submit() {
    const value = Number(this.input.value);
    if (this.input.value.trim() === "" || !Number.isFinite(value)) {
      this.error.textContent = "a number, please";
      return;
    }
    try {
      const answer = await patch(`/api/runs/${this.runId}/weights`, { ...this.target, value });
      this.close();
      this.onEdited(answer);
    } catch (err) {
      this.error.textContent = err instanceof ApiError ? err.describe() : err.message;
    }
  }

  close() {
    this.form.hidden = true;
    this.target = null;
  }
}
