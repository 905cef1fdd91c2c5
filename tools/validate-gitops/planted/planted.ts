// The shape of a planted mistake and the files the cases plant them in.
import type { ScratchTree } from '../helpers.spec-util';

export interface Planted {
  name: string;
  /** The checks that must fail, and only those. */
  fails: string[];
  plant(t: ScratchTree): void;
  /** Must match one of the failing checks' messages. */
  message: RegExp;
}

export const BASE = 'gitops/apps/caption-service/base';
export const DEPLOYMENT = `${BASE}/deployment.yaml`;
export const INGRESS = `${BASE}/ingress.yaml`;
export const RULES = `${BASE}/prometheusrule.yaml`;
export const DASHBOARD = `${BASE}/dashboards/caption-service.json`;
export const STAGING = 'gitops/apps/caption-service/overlays/staging/kustomization.yaml';
export const PRODUCTION = 'gitops/apps/caption-service/overlays/production/kustomization.yaml';
export const TESTS = 'gitops/apps/caption-service/tests/alerts.test.yaml';
export const MONITORING_APP = 'gitops/monitoring/application.yaml';
export const MONITORING_VALUES = 'gitops/monitoring/values.yaml';
export const INGRESS_APP = 'gitops/ingress/application.yaml';
export const INGRESS_VALUES = 'gitops/ingress/values.yaml';
