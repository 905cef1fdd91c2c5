// PromQL helpers: which metrics an expression reads (via the Prometheus project's own Lezer
// grammar) and which metrics a /metrics exposition offers.
import { parser } from '@prometheus-io/lezer-promql';

export interface QueriedExpr {
  expr: string;
  /** Where the expression comes from, for messages ("dashboard panel 'Queue depth'"). */
  where: string;
}

export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  metric?: string;
  matchers: LabelMatcher[];
}

/** The vector selectors of a PromQL expression (Grafana variables must already be replaced). */
export function selectors(expr: string): { selectors: Selector[]; syntaxErrors: number } {
  const tree = parser.parse(expr);
  const out: Selector[] = [];
  let syntaxErrors = 0;
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) syntaxErrors++;
    if (cursor.name !== 'VectorSelector') continue;
    const node = cursor.node;
    const ident = node.getChild('Identifier');
    const sel: Selector = {
      metric: ident ? expr.slice(ident.from, ident.to) : undefined,
      matchers: [],
    };
    const matchers = node.getChild('LabelMatchers');
    for (let m = matchers?.firstChild; m; m = m.nextSibling) {
      const text = expr.slice(m.from, m.to);
      const parsed = /^"?([^"=!~\s]+)"?\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"$/.exec(text);
      if (parsed) {
        const [, label, op, value] = parsed;
        // {__name__="metric"} names the metric like a bare identifier does.
        if (label === '__name__' && op === '=') {
          sel.metric = value;
        } else {
          sel.matchers.push({
            label,
            op: op as LabelMatcher['op'],
            value: value.replace(/\\(.)/g, '$1'),
          });
        }
      } else if (/^"[^"]+"$/.test(text)) {
        // The UTF-8 form {"metric.name"}.
        sel.metric = text.slice(1, -1);
      }
    }
    out.push(sel);
  } while (cursor.next());
  return { selectors: out, syntaxErrors };
}

/** Metric names read by a PromQL expression (Grafana variables must already be replaced). */
export function queriedMetrics(expr: string): { names: string[]; syntaxErrors: number } {
  const { selectors: sels, syntaxErrors } = selectors(expr);
  return {
    names: [...new Set(sels.map((s) => s.metric).filter((m): m is string => !!m))],
    syntaxErrors,
  };
}

/** Labels Prometheus attaches at scrape time (ServiceMonitor target labels), not the service. */
const TARGET_LABELS = new Set([
  'job',
  'namespace',
  'pod',
  'instance',
  'service',
  'endpoint',
  'container',
  'node',
]);

/** Label sets of each sample in an exposition, by metric name. */
export function exposedSamples(exposition: string): Map<string, Array<Record<string, string>>> {
  const out = new Map<string, Array<Record<string, string>>>();
  for (const raw of exposition.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    }
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1])!.push(labels);
  }
  return out;
}

/**
 * Metric names a Prometheus text exposition offers: every sample name, plus the series a
 * declared histogram or summary produces even before its first observation (prom-client
 * prints only HELP/TYPE for a labelled histogram nobody has observed yet).
 */
export function exposedMetrics(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const raw of exposition.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const type = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name);
      if (kind === 'histogram') ['_bucket', '_sum', '_count'].forEach((s) => names.add(name + s));
      if (kind === 'summary') ['_sum', '_count'].forEach((s) => names.add(name + s));
      if (kind === 'counter' && !name.endsWith('_total')) names.add(`${name}_total`);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (sample) names.add(sample[1]);
  }
  return names;
}

/**
 * Every metric the expressions read must be exported by the service (per the exposition
 * text) or be on the explicit allow-list of metrics the monitoring stack itself provides.
 * Returns one message per missing metric per expression; empty when all exist.
 */
export interface MetricCheckOptions {
  /** Metrics from the monitoring stack itself (cAdvisor, kube-state-metrics, ...). */
  allowList?: Iterable<string>;
  /**
   * Metrics whose label values are all exported from boot, so an equality matcher on a
   * value no sample carries is a mistake rather than "not observed yet". Default: the
   * service's caption_* metrics, which the contract says are present (at zero) from boot.
   */
  valuesComplete?: (metric: string) => boolean;
}

export function checkQueriedMetricsExist(
  exprs: Array<QueriedExpr | string>,
  expositionText: string,
  allowListOrOptions: Iterable<string> | MetricCheckOptions = [],
): string[] {
  const opts: MetricCheckOptions =
    Symbol.iterator in Object(allowListOrOptions)
      ? { allowList: allowListOrOptions as Iterable<string> }
      : (allowListOrOptions as MetricCheckOptions);
  const valuesComplete = opts.valuesComplete ?? ((m: string) => m.startsWith('caption_'));
  const exposed = exposedMetrics(expositionText);
  const samples = exposedSamples(expositionText);
  const allowed = new Set(opts.allowList ?? []);
  const problems: string[] = [];
  for (const item of exprs) {
    const { expr, where } = typeof item === 'string' ? { expr: item, where: 'expression' } : item;
    const { selectors: sels, syntaxErrors } = selectors(expr);
    if (syntaxErrors) problems.push(`${where}: PromQL does not parse: ${expr}`);
    const reported = new Set<string>();
    for (const sel of sels) {
      const name = sel.metric;
      if (!name) continue;
      if (!exposed.has(name) && !allowed.has(name)) {
        if (!reported.has(name)) {
          problems.push(
            `${where}: queries "${name}", which the service does not export and is not on the stack allow-list`,
          );
        }
        reported.add(name);
        continue;
      }
      // Labels can only be judged where the exposition has samples of the metric; a
      // histogram nobody observed yet prints no series.
      const seen = samples.get(name);
      if (!seen?.length) continue;
      for (const m of sel.matchers) {
        if (TARGET_LABELS.has(m.label) || m.label === 'le') continue;
        const values = new Set(
          seen.map((l) => l[m.label]).filter((v): v is string => v !== undefined),
        );
        if (!values.size) {
          problems.push(
            `${where}: matches ${name}{${m.label}${m.op}"${m.value}"} but ${name} has no label "${m.label}"`,
          );
        } else if (m.op === '=' && valuesComplete(name) && !values.has(m.value)) {
          problems.push(
            `${where}: matches ${name}{${m.label}="${m.value}"} but the service exports ${m.label} only as ${[...values].map((v) => `"${v}"`).join(', ')}`,
          );
        }
      }
    }
  }
  return [...new Set(problems)];
}

/**
 * Grafana expands its variables before the query reaches Prometheus; stand-ins with the
 * same syntactic role let promtool and the metric check see valid PromQL.
 */
export function expandGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g, '5m')
    .replace(/\$\{[A-Za-z0-9_]+(:[a-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*/g, 'grafana_var');
}

const COMPARISONS = new Set(['Gtr', 'Gte', 'Lss', 'Lte']);

/**
 * Thresholds compared with histogram_quantile(...) in an expression, with the _bucket metric
 * the quantile reads: `histogram_quantile(0.95, ...x_bucket...) > 2` gives {x_bucket, 2}.
 */
export function quantileThresholds(
  expr: string,
): Array<{ bucketMetric: string; threshold: number }> {
  const out: Array<{ bucketMetric: string; threshold: number }> = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (node.name !== 'BinaryExpr') return;
      const kids: Array<{ name: string; from: number; to: number; node: typeof node.node }> = [];
      for (let c = node.node.firstChild; c; c = c.nextSibling) {
        kids.push({ name: c.name, from: c.from, to: c.to, node: c });
      }
      if (!kids.some((k) => COMPARISONS.has(k.name))) return;
      const fn = kids.find(
        (k) =>
          k.name === 'FunctionCall' && expr.slice(k.from, k.to).startsWith('histogram_quantile'),
      );
      const num = kids.find(
        (k) => k.name === 'NumberDurationLiteral' || k.name === 'NumberLiteral',
      );
      if (!fn || !num) return;
      const threshold = Number(expr.slice(num.from, num.to));
      const inner = queriedMetrics(expr.slice(fn.from, fn.to)).names.filter((n) =>
        n.endsWith('_bucket'),
      );
      for (const bucketMetric of inner) {
        if (Number.isFinite(threshold)) out.push({ bucketMetric, threshold });
      }
    },
  });
  return out;
}

/**
 * A quantile compared with a threshold between two bucket boundaries is interpolated, so an
 * SLO alert on it fires at the wrong latency. Where the exposition has the histogram's
 * buckets, every such threshold must be one of their `le` boundaries.
 */
export function checkQuantileThresholdsOnBuckets(
  exprs: QueriedExpr[],
  expositionText: string,
): string[] {
  const samples = exposedSamples(expositionText);
  const problems: string[] = [];
  for (const { expr, where } of exprs) {
    for (const { bucketMetric, threshold } of quantileThresholds(expr)) {
      const les = [
        ...new Set(
          (samples.get(bucketMetric) ?? []).map((l) => l.le).filter((v) => v !== undefined),
        ),
      ];
      if (!les.length) continue;
      if (!les.some((le) => Number(le) === threshold)) {
        problems.push(
          `${where}: compares a quantile of ${bucketMetric} with ${threshold}, which is not a bucket boundary (le: ${les.join(', ')}); the alert would fire at an interpolated latency`,
        );
      }
    }
  }
  return problems;
}
