// PromQL helpers: which metrics an expression reads (via the Prometheus project's own Lezer
// grammar) and which metrics a /metrics exposition offers.
import { parser } from '@prometheus-io/lezer-promql';

export interface QueriedExpr {
  expr: string;
  /** Where the expression comes from, for messages ("dashboard panel 'Queue depth'"). */
  where: string;
}

/** Metric names read by a PromQL expression (Grafana variables must already be replaced). */
export function queriedMetrics(expr: string): { names: string[]; syntaxErrors: number } {
  const tree = parser.parse(expr);
  const names = new Set<string>();
  let syntaxErrors = 0;
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) syntaxErrors++;
    if (cursor.name !== 'VectorSelector') continue;
    const node = cursor.node;
    const ident = node.getChild('Identifier');
    if (ident) {
      names.add(expr.slice(ident.from, ident.to));
      continue;
    }
    // {__name__="metric"} or the UTF-8 form {"metric"}.
    const matchers = node.getChild('LabelMatchers');
    for (let m = matchers?.firstChild; m; m = m.nextSibling) {
      const text = expr.slice(m.from, m.to);
      const byName = /^__name__\s*=\s*"([^"]+)"$/.exec(text);
      if (byName) names.add(byName[1]);
      else if (m.name === 'QuotedLabelName' || /^"[^"]+"$/.test(text)) names.add(text.slice(1, -1));
    }
  } while (cursor.next());
  return { names: [...names], syntaxErrors };
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
export function checkQueriedMetricsExist(
  exprs: Array<QueriedExpr | string>,
  expositionText: string,
  allowList: Iterable<string> = [],
): string[] {
  const exposed = exposedMetrics(expositionText);
  const allowed = new Set(allowList);
  const problems: string[] = [];
  for (const item of exprs) {
    const { expr, where } = typeof item === 'string' ? { expr: item, where: 'expression' } : item;
    const { names, syntaxErrors } = queriedMetrics(expr);
    if (syntaxErrors) problems.push(`${where}: PromQL does not parse: ${expr}`);
    for (const name of names) {
      if (!exposed.has(name) && !allowed.has(name)) {
        problems.push(
          `${where}: queries "${name}", which the service does not export and is not on the stack allow-list`,
        );
      }
    }
  }
  return problems;
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
