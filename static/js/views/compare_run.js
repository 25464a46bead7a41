// One run of the compare page: its own stream feeds its small network view, its line of the shared
// loss chart and its step/loss/status. The page owns the shared controls; this only reports.
import { get } from "../lib/api.js";
import { fmtExact, fmtInt } from "../lib/format.js";
import { layerActivations } from "../lib/forward.js";
import { matricesFrom, vectorsFrom } from "../lib/matrix.js";
import { RunStream } from "../lib/stream.js";
import { NetworkView } from "./network_view.js";

const BINARY_ABOVE = 20_000; // weights; as on the run page

export class CompareRun {
  // card: the run's <article> (built by the page); line: its Series in the shared chart.
  constructor(card, run, { chart, line, onChange }) {
    this.card = card;
    this.run = run;
    this.chart = chart;
    this.line = line;
    this.onChange = onChange;
    this.step = -1;
    this.statusEpoch = 0; // counts status frames: a REST answer must not undo a newer one
    this.part = (role) => card.querySelector(`[data-role=${role}]`);
    this.network = new NetworkView(this.part("network"), this.part("tooltip"), this.part("note"));
    this.network.setModel(run.config.layers, layerActivations(run.config));
    this.network.setTraining({
      momentum: run.config.momentum || 0,
      batchSize: run.config.batch_size ?? null,
      bias: run.config.bias !== false,
      variant: run.config.variant,
    });
    this.previous = null; // {step, weights} of the last frame, for the hover's Δw under momentum
    this.show(run);
  }

  get status() {
    return this.run.status;
  }

  async start() {
    get(`/api/runs/${this.run.id}/dataset`).then(
      (data) => this.network.setSamples(data.x_train),
      () => {},
    );
    const weights = this.run.config.layers.slice(1).reduce((n, c, l) => n + c * this.run.config.layers[l], 0);
    this.stream = new RunStream(this.run.id, {
      encoding: weights > BINARY_ABOVE ? "binary" : "json",
      onFrame: (frame) => this.onFrame(frame),
      onConnection: (state) => this.connection(state),
    });
    this.stream.open();
  }

  onFrame(frame) {
    if (frame.type === "state") {
      this.step = -1;
      this.chart.reset(frame.history, this.line, null);
      const step = frame.step ?? frame.run.step;
      this.previous = { step, weights: matricesFrom(frame.weights) };
      this.network.update({ step, weights: this.previous.weights, biases: vectorsFrom(frame.biases) });
      this.show(frame.run);
    } else if (frame.type === "update") {
      this.chart.update(frame, this.line, null);
      const weights = matricesFrom(frame.weights);
      const before = this.previous && this.previous.step === frame.step - 1 ? this.previous.weights : null;
      this.previous = { step: frame.step, weights };
      this.network.update({
        step: frame.step,
        weights,
        biases: vectorsFrom(frame.biases),
        deltas: vectorsFrom(frame.deltas),
        gradients: matricesFrom(frame.gradients),
        updateRate: frame.learning_rate ?? null,
        previousWeights: before,
      });
      this.show({ step: frame.step, loss: frame.loss });
    } else if (frame.type === "settings") {
      this.show({ learning_rate: frame.learning_rate, speed: frame.speed });
    } else if (frame.type === "status") {
      this.statusEpoch++;
      this.show({ status: frame.status, message: frame.message });
    }
  }

  connection(state) {
    const badge = this.part("conn");
    badge.dataset.state = state;
    badge.textContent =
      { open: "live", connecting: "connecting…", closed: "reconnecting…", refused: "stream refused" }[state] || state;
  }

  // A REST answer to a request sent at status epoch `epoch` (see run.js's applyRun).
  applyAnswer(answer, epoch) {
    const run = { ...answer };
    if (epoch !== this.statusEpoch) delete run.status;
    this.show(run);
  }

  // A REST answer or a frame; the newest step wins whichever arrives first.
  show(answer) {
    const fresh = answer.step === undefined || answer.step >= this.step;
    this.run = { ...this.run, ...(fresh ? answer : { status: answer.status ?? this.run.status }) };
    if (fresh && answer.learning_rate !== undefined) this.network.setLearningRate(answer.learning_rate);
    if (fresh && answer.step !== undefined) {
      this.step = answer.step;
      this.part("step").textContent = fmtInt(answer.step);
      const loss = this.part("loss");
      loss.textContent = fmtExact(answer.loss);
      loss.dataset.value = answer.loss === null || answer.loss === undefined ? "" : String(answer.loss);
    }
    const badge = this.part("status");
    badge.textContent = this.run.status;
    badge.dataset.status = this.run.status;
    this.part("message").textContent = ["diverged", "finished", "stopped", "interrupted"].includes(this.run.status)
      ? this.run.message || ""
      : "";
    this.onChange();
  }
}
