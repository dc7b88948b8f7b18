import type { VigilConfig } from '../../config/schema.js';
import { WebService } from '../web/web-service.js';
import { Pm25Service } from '../services/pm25-service.js';
import { FleetService } from '../fleet/fleet-service.js';
import { DriftService } from '../services/drift-service.js';
import { HealthService } from '../services/health-service.js';
import { RequestService } from '../services/request-service.js';
import { HomeAssistantService } from '../services/ha-discovery-service.js';
import { RestateService } from '../services/restate-service.js';
import { CameraTopicsService } from '../services/camera-topics-service.js';
import { OldRootsService } from '../services/old-roots-service.js';
import type { Agent } from './agent.js';

/** Reports a failure after start; a report from an earlier run, or while the agent stops, does nothing. */
export type ServiceFailed = (reason: string) => void;

/**
 * A component that runs beside the camera pipelines (status page, health reports, drift, PM2.5, fleet…).
 * It reads the agent (cameras, outbox, link, topics, detections$, states$) and publishes through the outbox.
 */
export interface AgentService {
  readonly name: string;
  /**
   * `failed` is this run's own report line to the supervisor: a service that fails after starting (its
   * server errors, its stream dies) calls it and is stopped and started again alone, never the agent.
   */
  start(agent: Agent, failed: ServiceFailed): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** The explicit list of services a config turns on (no discovery). */
export function createServices(config: VigilConfig): AgentService[] {
  const services: AgentService[] = [];
  if (config.http.enabled) services.push(new WebService(config.http));
  // Always there, idle without a PM2.5 camera: it follows the config, so a push can add the first one.
  services.push(new Pm25Service());
  if (config.fleet) services.push(new FleetService(config.fleet));
  if (config.drift?.enabled) services.push(new DriftService(config.drift));
  // Health, drop and moved-aside reports, requests, clears and discovery all need a broker to go to.
  if (config.mqtt)
    services.push(
      new HealthService(),
      new RequestService(),
      new RestateService(),
      new CameraTopicsService(),
      new OldRootsService(),
    );
  if (config.mqtt?.homeAssistant.enabled) services.push(new HomeAssistantService());
  return services;
}
