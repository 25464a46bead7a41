// A small, safe parser for f(x) in the server's Python-like syntax (+ − * / **, parentheses, sin,
// cos, tan, exp, log, sqrt, abs, tanh, pi, e). Used only to draw the curve: the points, slopes and
// steps on the descent page come from POST /api/descent. Never uses eval (the CSP forbids it too).
const FUNCS = { sin: Math.sin, cos: Math.cos, tan: Math.tan, exp: Math.exp, log: Math.log, sqrt: Math.sqrt, abs: Math.abs, tanh: Math.tanh, sinh: Math.sinh, cosh: Math.cosh };
const CONSTS = { pi: Math.PI, e: Math.E };

function tokenize(text) {
  const tokens = [];
  const re = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|(\*\*|[-+*/^()]))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`cannot read "${text.slice(pos)}"`);
    pos = re.lastIndex;
    if (m[1]) tokens.push({ t: "num", v: Number(m[1]) });
    else if (m[2]) tokens.push({ t: "name", v: m[2] });
    else tokens.push({ t: "op", v: m[3] === "^" ? "**" : m[3] });
  }
  return tokens;
}

// Recursive descent with Python's precedence: unary minus binds looser than **, which is right-assoc.
export function compile(text) {
  const tokens = tokenize(text);
  let k = 0;
  const peek = () => tokens[k];
  const take = (v) => (peek() && peek().v === v ? tokens[k++] : null);
  const expect = (v) => {
    if (!take(v)) throw new Error(`expected "${v}"`);
  };
  function sum() {
    let node = product();
    for (let op; (op = take("+") || take("-")); ) {
      const [a, b] = [node, product()];
      node = op.v === "+" ? (x) => a(x) + b(x) : (x) => a(x) - b(x);
    }
    return node;
  }
  function product() {
    let node = unary();
    for (let op; (op = take("*") || take("/")); ) {
      const [a, b] = [node, unary()];
      node = op.v === "*" ? (x) => a(x) * b(x) : (x) => a(x) / b(x);
    }
    return node;
  }
  function unary() {
    if (take("-")) {
      const a = unary();
      return (x) => -a(x);
    }
    if (take("+")) return unary();
    return power();
  }
  function power() {
    const base = atom();
    if (take("**")) {
      const exp = unary();
      return (x) => base(x) ** exp(x);
    }
    return base;
  }
  function atom() {
    const tok = tokens[k++];
    if (!tok) throw new Error("unexpected end");
    if (tok.t === "num") return () => tok.v;
    if (tok.v === "(") {
      const inner = sum();
      expect(")");
      return inner;
    }
    if (tok.t === "name") {
      if (tok.v === "x") return (x) => x;
      if (tok.v in CONSTS) return () => CONSTS[tok.v];
      if (tok.v in FUNCS) {
        expect("(");
        const arg = sum();
        expect(")");
        return (x) => FUNCS[tok.v](arg(x));
      }
    }
    throw new Error(`unknown "${tok.v}"`);
  }
  const fn = sum();
  if (k !== tokens.length) throw new Error(`unexpected "${tokens[k].v}"`);
  return fn;
}
