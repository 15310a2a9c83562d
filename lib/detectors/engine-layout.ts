/**
 * How the engine lays out its per-stream Tier-1 scores, shared by the modules that read them:
 * stream i's raw score of detector k is `lastZ[i·ND + k]` and its calibrator slot is
 * `2 + i·ND + k` (slots 0 and 1 are Tier 2's). Holt-Winters, the only season-aware detector,
 * is k = 1.
 */

/** Detectors per stream, in calibrator slot order. */
export const TIER1_DETECTORS = ["robust-z", "holt-winters", "ar-rls", "quantile-filter"] as const;
export const ND = TIER1_DETECTORS.length;
/** Calibration priors (u0, β0) per detector: all emit z-like scores. */
export const PRIOR_U = 2;
export const PRIOR_BETA = 0.4;
