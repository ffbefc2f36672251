// Reads a JSON array of {path, object} on stdin; prints a JSON array of {path, error}, one per
// manifest that fails its kind's schema (kubernetes-models: Kubernetes' own OpenAPI schemas;
// @kubernetes-models/prometheus-operator: the CRDs' openAPIV3Schema). Unknown kinds fail.
import { readFileSync } from "node:fs";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

const MODELS = {
  "v1/ConfigMap": ConfigMap,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

const problems = [];
for (const { path, object } of JSON.parse(readFileSync(0, "utf8"))) {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) {
    problems.push({ path, error: `no schema for ${object.apiVersion} ${object.kind}` });
    continue;
  }
  try {
    new Model(object).validate();
  } catch (err) {
    problems.push({ path, error: String(err.message ?? err) });
  }
}
process.stdout.write(JSON.stringify(problems));
