/**
 * Builds the Cloud the composition root asks for: REST (default) or the `openstack` CLI, locally or
 * through another CommandRunner (an SSH runner on a bastion). The CLI backend always gets a REST
 * cloud beside it for the calls OSC 6.0.0 cannot make.
 */
import { CliCloud } from './cli-cloud.js';
import type { Cloud, Fallback } from './cloud.js';
import { loadCloudConfig, type LoadCloudConfigOptions } from './cloud-config.js';
import { LocalCommandRunner, type CommandRunner } from './command-runner.js';
import type { RequestBudget } from './request-budget.js';
import { RestCloud, type RestCloudOptions } from './rest-cloud.js';

export interface OpenCloudOptions extends LoadCloudConfigOptions {
  backend?: 'rest' | 'cli';
  rest?: RestCloudOptions;
  /** For the CLI backend; defaults to running `openstack` on this machine. */
  runner?: CommandRunner;
  /** The cloud name the CLI is given (`--os-cloud`); defaults to the resolved cloud's name. */
  cliCloud?: string;
  cliTimeoutMs?: number;
  onFallback?: (f: Fallback) => void;
  /** One budget for both backends' calls (REST attempts and CLI invocations). */
  budget?: RequestBudget;
}

export interface OpenedCloud {
  cloud: Cloud;
  close(): Promise<void>;
}

export function openCloud(o: OpenCloudOptions = {}): OpenedCloud {
  const config = loadCloudConfig(o);
  const rest = new RestCloud(config, { ...o.rest, ...(o.budget ? { budget: o.budget } : {}) });
  if ((o.backend ?? 'rest') === 'rest') return { cloud: rest, close: () => rest.close() };
  const name = o.cliCloud ?? (config.name === 'envvars' ? undefined : config.name);
  const cli = new CliCloud({
    runner: o.runner ?? new LocalCommandRunner(o.env ?? process.env),
    ...(name ? { globalArgs: ['--os-cloud', name] } : {}),
    rest,
    ...(o.cliTimeoutMs !== undefined ? { timeoutMs: o.cliTimeoutMs } : {}),
    ...(o.onFallback ? { onFallback: o.onFallback } : {}),
    ...(o.budget ? { budget: o.budget } : {}),
  });
  return { cloud: cli, close: () => rest.close() };
}
