// Planted mistakes for the alert rules, alert tests, dashboards, queried metrics checks.
import { DASHBOARD, RULES, TESTS, type Planted } from './planted';

export const ALERTS_CASES: Planted[] = [
  // alert-rules (the unit tests notice most rule mistakes too: both must fail)
  {
    name: 'an alert with a severity Alertmanager does not route',
    fails: ['alert-rules', 'alert-tests'],
    plant: (t) =>
      t.replace(
        RULES,
        /(alert: CaptionServiceHighErrorRatio[^]*?)severity: critical/,
        '$1severity: page',
      ),
    message:
      /alert CaptionServiceHighErrorRatio: labels.severity must be critical, warning or info/,
  },
  {
    name: 'the model-load alert deleted',
    fails: ['alert-rules', 'alert-tests'],
    plant: (t) => t.replace(RULES, /\n\s+- alert: CaptionServiceModelLoadFailure[^]*$/, '\n'),
    message: /no alert covers model load failure/,
  },
  {
    name: 'an alert expression that does not parse',
    fails: ['alert-rules', 'alert-tests', 'queried-metrics'],
    plant: (t) =>
      t.replace(
        RULES,
        'max by (namespace, pod) (caption_model_ready{job="caption-service"}) == 0',
        'max by (namespace, pod) (caption_model_ready{job="caption-service"} == 0',
      ),
    message: /promtool check rules failed/,
  },
  // alert-tests
  {
    name: 'an alert threshold that no longer fires on its unit test',
    fails: ['alert-tests'],
    plant: (t) => t.replace(RULES, '> 0.05', '> 0.5'),
    message: /promtool test rules .* failed:[^]*CaptionServiceHighErrorRatio/,
  },
  {
    name: 'an alert left without a unit test',
    fails: ['alert-tests'],
    plant: (t) => t.replace(TESTS, /\n {2}# Model: never ready[^]*$/, '\n'),
    message: /alert CaptionServiceModelLoadFailure has no unit test/,
  },
  // dashboard
  {
    name: 'dashboard JSON that does not parse',
    fails: ['dashboard'],
    plant: (t) => t.replace(DASHBOARD, '"refresh": "30s",', '"refresh": "30s",,'),
    message: /dashboard JSON does not parse/,
  },
  {
    name: 'a panel query promtool rejects',
    fails: ['dashboard', 'queried-metrics'],
    plant: (t) =>
      t.replace(
        DASHBOARD,
        '"expr": "sum(rate(caption_generated_tokens_total{namespace=\\"$namespace\\", job=\\"caption-service\\"}[$__rate_interval]))"',
        '"expr": "sum(rate(caption_generated_tokens_total{namespace=\\"$namespace\\", job=\\"caption-service\\"}[$__rate_interval])"',
      ),
    message: /panel "Generated tokens \/ s": PromQL rejected by promtool/,
  },
  {
    name: 'the cache hit ratio panel removed',
    fails: ['dashboard'],
    plant: (t) => {
      const d = JSON.parse(t.read(DASHBOARD));
      d.panels = d.panels.filter((p: { title: string }) => p.title !== 'Cache hit ratio');
      t.write(DASHBOARD, JSON.stringify(d, null, 2));
    },
    message: /no panel shows cache hit ratio/,
  },
  // queried-metrics
  {
    name: 'a panel querying a metric the service does not export',
    fails: ['queried-metrics'],
    plant: (t) =>
      t.replace(DASHBOARD, 'caption_generated_tokens_total', 'caption_tokens_generated_total'),
    message:
      /panel "Generated tokens \/ s": queries "caption_tokens_generated_total", which the service does not export/,
  },
  {
    name: 'an alert and its unit test agreeing on a label value the service never exports',
    // The unit test was written with the same wrong value, so only the exposition catches it.
    fails: ['queried-metrics'],
    plant: (t) => {
      t.replace(RULES, 'reason="queue_full"', 'reason="queue-full"');
      t.replace(TESTS, 'reason="queue_full"', 'reason="queue-full"');
    },
    message:
      /matches caption_queue_rejections_total\{reason="queue-full"\} but the service exports reason only as "queue_full", "not_ready"/,
  },
  {
    name: 'a dashboard variable reading a metric that does not exist',
    fails: ['queried-metrics'],
    plant: (t) => {
      t.replace(
        DASHBOARD,
        '"query": "label_values(caption_model_info, namespace)"',
        '"query": "label_values(caption_model_infos, namespace)"',
      );
    },
    message: /variable \$namespace: queries "caption_model_infos"/,
  },
  {
    name: 'a latency SLO threshold between two histogram buckets',
    // Its unit test still passes (p95 of the test data is above both): only the buckets tell.
    fails: ['queried-metrics'],
    plant: (t) => t.replace(RULES, /\) > 2\n/, ') > 3\n'),
    message:
      /CaptionServiceLatencyP95AboveSLO: compares a quantile of http_request_duration_seconds_bucket with 3, which is not a bucket boundary/,
  },
  {
    name: 'a stack metric that is not on the allow-list',
    fails: ['queried-metrics'],
    plant: (t) =>
      t.replace(
        DASHBOARD,
        'sum by (pod) (container_memory_working_set_bytes',
        'sum by (pod) (container_memory_working_set_bytes + container_memory_rss',
      ),
    message:
      /queries "container_memory_rss", which the service does not export and is not on the stack allow-list/,
  },
];
