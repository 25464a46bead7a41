// One WebSocket per page on /api/runs/{id}/stream. Every tab gets every frame from the server, so
// tabs stay in sync without talking to each other; on a drop it reconnects with backoff and the
// server's first "state" frame re-syncs everything (weights and the whole loss history).
import { decodeBinaryFrame } from "./binary_frame.js";

export class RunStream {
  constructor(runId, { onFrame, onConnection, fps = 30, encoding = "json" }) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/runs/${encodeURIComponent(runId)}/stream`;
    this.onFrame = onFrame;
    this.onConnection = onConnection || (() => {});
    this.hello = JSON.stringify({ fps, encoding });
    this.retryMs = 500;
    this.closed = false;
    this.socket = null;
  }

  open() {
    this.closed = false;
    this.onConnection("connecting");
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retryMs = 500;
      socket.send(this.hello);
      this.onConnection("open");
    });
    socket.addEventListener("message", (event) => {
      const frame = typeof event.data === "string" ? JSON.parse(event.data) : decodeBinaryFrame(event.data);
      this.onFrame(frame);
    });
    socket.addEventListener("close", (event) => this.scheduleReconnect(event));
  }

  scheduleReconnect(event) {
    if (this.closed) return;
    // 1008/4404-style closes mean "no such run" or "not allowed": retrying would not help.
    if (event && (event.code === 1008 || event.code === 4403 || event.code === 4404)) {
      this.onConnection("refused");
      return;
    }
    this.onConnection("closed");
    setTimeout(() => !this.closed && this.open(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 5000);
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close();
  }
}
