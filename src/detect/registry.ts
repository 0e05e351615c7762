/**
 * Which detection modules exist: each configuration section with its parser
 * (defaults for what is absent) and, for detectors, the factory building
 * them from the parsed section. A new module is one line in DETECTION_MODULES.
 */
import type { StreamingDetector, WindowedDetector } from './detector.js';
import type { DetectionConfig } from './config.js';
import { integrityDetectors, parseIntegrityConfig } from './integrity/index.js';
import { parsePolicyViolationConfig, policyDetectors } from './policy/index.js';
import { parseScopeConfig, scopeDetectors } from './scope/index.js';
import { crossAgentDetectors, parseCrossAgentConfig } from './cross-agent/index.js';
import { parsePathsConfig, pathsDetectors } from './paths/index.js';
import { depthDetectors, parseDepthConfig } from './depth/index.js';
import { parseDeliveryConfig } from '../alert/delivery/config.js';
import { parseResponseConfig } from '../alert/response/config.js';

export interface DetectorSet {
  streaming: StreamingDetector[];
  windowed: WindowedDetector[];
}

/** A section of the detection configuration: its parser and, for a detector module, its factory. */
export interface DetectionModule<C> {
  parse(raw: unknown, at: string, problems: string[]): C;
  build?(config: C): Partial<DetectorSet>;
}

const detectionModule = <C>(parse: DetectionModule<C>['parse'], build?: DetectionModule<C>['build']): DetectionModule<C> => (build ? { parse, build } : { parse });

export const DETECTION_MODULES = {
  integrity: detectionModule(parseIntegrityConfig, integrityDetectors),
  policy: detectionModule(parsePolicyViolationConfig, policyDetectors),
  scope: detectionModule(parseScopeConfig, scopeDetectors),
  cross_agent: detectionModule(parseCrossAgentConfig, crossAgentDetectors),
  paths: detectionModule(parsePathsConfig, pathsDetectors),
  depth: detectionModule(parseDepthConfig, depthDetectors),
  delivery: detectionModule(parseDeliveryConfig),
  response: detectionModule(parseResponseConfig),
};

export type DetectionSections = { [K in keyof typeof DETECTION_MODULES]: (typeof DETECTION_MODULES)[K] extends DetectionModule<infer C> ? C : never };

/** Every detector the configuration turns on (none when detection is off). */
export function buildDetectors(config: DetectionConfig): DetectorSet {
  const set: DetectorSet = { streaming: [], windowed: [] };
  if (!config.enabled) return set;
  for (const [name, module] of Object.entries(DETECTION_MODULES) as [keyof DetectionSections, DetectionModule<unknown>][]) {
    const built = module.build?.(config.sections[name]);
    set.streaming.push(...(built?.streaming ?? []));
    set.windowed.push(...(built?.windowed ?? []));
  }
  return set;
}
