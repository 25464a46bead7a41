// Thin REST client: JSON in, JSON out; an error answer becomes an ApiError carrying FastAPI's detail.
export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }

  // 422 detail is a list of {loc, msg, type}; turn it into [{path: "dataset.samples", msg, type}].
  fieldErrors() {
    if (!Array.isArray(this.detail)) return [];
    return this.detail.map((item) => ({
      path: (item.loc || []).filter((part) => part !== "body").join("."),
      msg: item.msg || String(item),
      type: item.type || "value_error",
    }));
  }

  describe() {
    if (typeof this.detail === "string") return this.detail;
    if (Array.isArray(this.detail))
      return this.fieldErrors()
        .map((e) => `${e.path}: ${e.msg}`)
        .join("; ");
    return this.message;
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok)
    throw new ApiError(response.status, data && data.detail !== undefined ? data.detail : response.statusText);
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);

// The descent routes answer 429 while every descent worker of the server is busy (a moment, as a
// request may use only a little CPU): wait a little longer each time and ask again.
async function retryWhileBusy(call, tries = 5) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 429 || attempt >= tries) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 150 * attempt));
  }
}

// Gradient descent on one variable: the next `steps` moves from x0, {trace, stopped}.
export const descentTrace = ({ expr, x0, learning_rate, steps }) =>
  retryWhileBusy(() => post("/api/descent", { expr, x0, learning_rate, steps }));

// y = f(x) at `points` evenly spaced x over [xMin, xMax], {x, y}; y is null where f is not finite.
export function descentCurve(expr, [xMin, xMax], points) {
  const query = new URLSearchParams({ expr, x_min: xMin, x_max: xMax, points });
  return retryWhileBusy(() => get(`/api/descent/curve?${query}`));
}
