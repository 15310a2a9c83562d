import "server-only";
import { countOpenBySeverity, listAnomalies, type AnomalyFilter } from "../../repos/anomalies-repo";

export async function findAnomalies(filter: AnomalyFilter) {
  return listAnomalies(filter);
}

export async function openAnomalyCounts() {
  return countOpenBySeverity();
}
