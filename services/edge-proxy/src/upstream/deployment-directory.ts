import { type Deployment, deploymentKey } from "./deployment.js";

/**
 * Every deployment the edge knows, from routes (agentd) or endpoints (supervisor), one object per
 * {app}/{env} for the life of the process, so both feeds update the same object.
 */
export class DeploymentDirectory {
  readonly #byKey = new Map<string, Deployment>();

  get(app: string, env: string): Deployment {
    const key = deploymentKey(app, env);
    let deployment = this.#byKey.get(key);
    if (!deployment) {
      deployment = {
        key,
        app,
        env,
        upstreams: [],
        cursor: 0,
        desiredInstances: undefined,
        releaseDir: "",
        publicFiles: undefined,
      };
      this.#byKey.set(key, deployment);
    }
    return deployment;
  }

  find(key: string): Deployment | undefined {
    return this.#byKey.get(key);
  }

  all(): IterableIterator<Deployment> {
    return this.#byKey.values();
  }
}
