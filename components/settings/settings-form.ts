/** Pure helpers for the detector settings form: effective values in, minimal overrides out. */
import { stableJson, type EffectiveSettings, type TDetectorSettings, type TMuteWindow } from "@/lib/config/settings";

export type FormState = EffectiveSettings;

const same = (a: unknown, b: unknown) => stableJson(a) === stableJson(b);

/**
 * The overrides to store for a scope: fields that differ from what the scope inherits, plus
 * fields the scope already overrode (so an explicit override survives until removed). Mute
 * windows are the scope's own (inherited ones are shown separately).
 */
export function toOverrides(form: FormState, inherited: EffectiveSettings, current: TDetectorSettings, ownMute: TMuteWindow[]): TDetectorSettings {
  const o: TDetectorSettings = {};
  const keep = <K extends keyof TDetectorSettings>(k: K, formValue: unknown, inheritedValue: unknown) =>
    !same(formValue, inheritedValue) || current[k] !== undefined;
  if (keep("enabled", form.enabled, inherited.enabled)) o.enabled = form.enabled;
  if (keep("sensitivity", form.sensitivity, inherited.sensitivity)) o.sensitivity = form.sensitivity;
  if (keep("severity", form.severity, inherited.severity)) o.severity = { ...form.severity };
  if (keep("minDurationSec", form.minDurationSec, inherited.minDurationSec)) o.minDurationSec = form.minDurationSec;
  const det: NonNullable<TDetectorSettings["detectors"]> = {};
  for (const k of ["univariate", "multivariate", "gaps"] as const) {
    if (form.detectors[k] !== inherited.detectors[k] || current.detectors?.[k] !== undefined) det[k] = form.detectors[k];
  }
  if (Object.keys(det).length) o.detectors = det;
  if (keep("seasonality", form.seasonality, inherited.seasonality)) o.seasonality = form.seasonality;
  if (keep("minTrainingSamples", form.minTrainingSamples, inherited.minTrainingSamples)) o.minTrainingSamples = form.minTrainingSamples;
  if (keep("bandSigmas", form.bandSigmas, inherited.bandSigmas)) o.bandSigmas = form.bandSigmas;
  if (keep("trainingWindowDays", form.trainingWindowDays, inherited.trainingWindowDays)) o.trainingWindowDays = form.trainingWindowDays;
  if (ownMute.length) o.muteWindows = ownMute;
  return o;
}
