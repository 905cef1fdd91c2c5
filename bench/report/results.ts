/** Everything one run of `npm run bench` measured (written to BENCH_DIR/results.json). */
import { ApiCosts } from '../api/api-costs';
import { ModeFidelity } from '../fidelity/fidelity';
import { MachineLimits } from '../limits/machine-limits';
import { StageResult } from '../limits/stages';
import { NEW_TOKENS } from '../settings';
import { HttpSystemResult } from '../systems/http-system';
import { TransformersJsResult } from '../systems/transformers-js';

export interface MachineInfo {
  cpu: string;
  cpus: number;
  /** CPUs the service may use (affinity and cgroup quota). */
  cpuBudget: number;
  /** 1-minute load average at the start and the end of the run. */
  loadStart: number;
  loadEnd: number;
}

export interface BenchResults {
  date: string;
  quick: boolean;
  machine: MachineInfo;
  limits?: MachineLimits;
  /** Per-stage costs and times, for the default mode's prepared graphs. */
  stages?: StageResult[];
  /** Optimized graphs vs the stock decoder on the full-size model, max |logit diff|. */
  equivalence?: Record<string, number>;
  seed?: HttpSystemResult;
  ours?: HttpSystemResult;
  transformersJs: TransformersJsResult[];
  /** What num_return_sequences and a batch of 16 cost on our service. */
  api?: ApiCosts;
  fidelity?: ModeFidelity[];
  /** The mode whose environment gives the service's default settings. */
  defaultMode?: string;
}

/** A whole caption at the limit and as the stages measured: encoder + K/V + 15 steps. */
export function captionFromStages(
  stages: StageResult[],
  rows: 1 | 4,
): { limitMs: number; measuredMs: number } {
  const find = (prefix: string) => {
    const stage = stages.find((s) => s.stage.startsWith(prefix));
    if (!stage) throw new Error(`no stage ${prefix}`);
    return stage;
  };
  const parts = [
    { stage: find('encoder'), times: 1 },
    { stage: find('cross-attention'), times: 1 },
    { stage: find(`decoder step, ${rows} row`), times: NEW_TOKENS },
  ];
  return {
    limitMs: parts.reduce((sum, p) => sum + p.stage.limitMs * p.times, 0),
    measuredMs: parts.reduce((sum, p) => sum + p.stage.measuredMs * p.times, 0),
  };
}
