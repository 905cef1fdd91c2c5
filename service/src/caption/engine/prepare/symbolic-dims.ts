/**
 * Dimensions as linear forms over named symbols (rows, images, the cache length...), and the
 * shape arithmetic on them that symbolic-shapes.ts needs: broadcasting, element-wise value
 * arithmetic, and Reshape with 0 and -1.
 */

/** k + sum(coefficient x symbol). */
export interface Dim {
  k: number;
  s: Record<string, number>;
}

export const constant = (k: number): Dim => ({ k, s: {} });
export const symbol = (name: string): Dim => ({ k: 0, s: { [name]: 1 } });

export function isConstant(d: Dim): boolean {
  return Object.keys(d.s).length === 0;
}

export function sameDim(a: Dim, b: Dim): boolean {
  return key(a) === key(b);
}

/** A canonical text for a dimension (equal dims, equal keys). */
export function key(d: Dim): string {
  const terms = Object.entries(d.s)
    .filter(([, c]) => c !== 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, c]) => `${c}*${name}`);
  return [...terms, String(d.k)].join('+');
}

export function combine(a: Dim, b: Dim, sign: 1 | -1): Dim {
  const s = { ...a.s };
  for (const [name, c] of Object.entries(b.s)) s[name] = (s[name] ?? 0) + sign * c;
  for (const name of Object.keys(s)) if (s[name] === 0) delete s[name];
  return { k: a.k + sign * b.k, s };
}

export function scale(a: Dim, by: number): Dim {
  return {
    k: a.k * by,
    s: Object.fromEntries(Object.entries(a.s).map(([n, c]) => [n, c * by])),
  };
}

/** A product as a constant times symbolic factors (each a linear form), for Reshape's -1. */
interface Product {
  k: number;
  factors: string[];
}

function productOf(ds: Dim[]): Product {
  const p: Product = { k: 1, factors: [] };
  for (const d of ds) {
    if (isConstant(d)) p.k *= d.k;
    else p.factors.push(key(d));
  }
  return p;
}

export function broadcast(shapes: (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const ds = shapes
      .map((s) => s![s!.length - rank + i])
      .filter((d): d is Dim => d !== undefined && !(isConstant(d) && d.k === 1));
    if (ds.length === 0) out.push(constant(1));
    else if (ds.every((d) => sameDim(d, ds[0]))) out.push(ds[0]);
    else return undefined;
  }
  return out;
}

export function elementwiseValue(op: string, a: Dim[], b: Dim[]): Dim[] | undefined {
  const n = Math.max(a.length, b.length);
  if (a.length !== n && a.length !== 1) return undefined;
  if (b.length !== n && b.length !== 1) return undefined;
  const at = (v: Dim[], i: number) => v[v.length === 1 ? 0 : i];
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = [at(a, i), at(b, i)];
    if (op === 'Add') {
      out.push(combine(x, y, 1));
    } else if (op === 'Sub') {
      out.push(combine(x, y, -1));
    } else if (op === 'Mul' && isConstant(y)) {
      out.push(scale(x, y.k));
    } else if (op === 'Mul' && isConstant(x)) {
      out.push(scale(y, x.k));
    } else if (op === 'Div' && isConstant(x) && isConstant(y)) {
      out.push(constant(Math.trunc(x.k / y.k)));
    } else {
      return undefined;
    }
  }
  return out;
}

/**
 * Equal on shape values: known for constants, and false for a dimension against a negative
 * constant (dimensions are never negative), the idiom Where(Equal(shape, -1), 1, shape).
 */
export function equalValue(a: Dim[], b: Dim[]): Dim[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = [a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]];
    if (!x || !y) return undefined;
    if (isConstant(x) && isConstant(y)) out.push(constant(x.k === y.k ? 1 : 0));
    else if (sameDim(x, y)) out.push(constant(1));
    else if ((isConstant(y) && y.k < 0) || (isConstant(x) && x.k < 0)) out.push(constant(0));
    else return undefined;
  }
  return out;
}

/** Reshape's output: 0 copies the input dimension at that index, -1 takes the rest. */
export function reshaped(input: Dim[] | undefined, target: Dim[] | undefined): Dim[] | undefined {
  if (!target) return undefined;
  const special = (d: Dim) => isConstant(d) && (d.k === 0 || d.k === -1);
  if (!target.some(special)) return target;
  if (!input) return undefined;
  const out = target.map((d, i) => (isConstant(d) && d.k === 0 ? input[i] : d));
  const rest = out.findIndex((d) => isConstant(d) && d.k === -1);
  if (rest < 0) return out;
  const total = productOf(input);
  const others = productOf(out.filter((_, i) => i !== rest));
  const factors = [...total.factors];
  let cancels = true;
  for (const f of others.factors) {
    const at = factors.indexOf(f);
    if (at < 0) cancels = false;
    else factors.splice(at, 1);
  }
  const k = total.k / others.k;
  if (cancels && Number.isInteger(k) && factors.length === 0) {
    out[rest] = constant(k);
  } else if (cancels && k === 1 && factors.length === 1) {
    out[rest] = parse(factors[0]);
  }
  // What is left is not a linear form (e.g. rows / images, the beams): an opaque symbol, the
  // same for the same quotient, so that later shapes still line up. No input holds it, so
  // nothing built from it is ever folded.
  else {
    out[rest] = symbol(
      `(${total.k}*${total.factors.join('*')})/(${others.k}*${others.factors.join('*')})`,
    );
  }
  return out;
}

/** Inverse of key() for one linear form. */
function parse(text: string): Dim {
  const parts = text.split('+');
  const k = Number(parts.pop());
  const s: Record<string, number> = {};
  for (const term of parts) {
    const [c, name] = term.split('*');
    s[name] = Number(c);
  }
  return { k, s };
}
