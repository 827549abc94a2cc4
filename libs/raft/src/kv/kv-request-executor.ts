import type { KvRequest } from './kv-protocol';
import type { KvService } from './kv-service';

/**
 * Runs one request against the service. Writes — the hot path — hand back the service's own
 * promise (no extra async frame); anything the service throws synchronously becomes a
 * rejection, as from an async function.
 */
export function executeKvRequest(service: KvService, req: KvRequest): Promise<unknown> {
  try {
    if (req.op === 'put') return service.put(req.key, req.value);
    if (req.op === 'delete') return service.delete(req.key);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  return executeOther(service, req);
}

async function executeOther(service: KvService, req: KvRequest): Promise<unknown> {
  switch (req.op) {
    case 'put':
      return service.put(req.key, req.value);
    case 'delete':
      return service.delete(req.key);
    case 'get':
      return { value: await service.get(req.key) };
    case 'status':
      return service.status();
    case 'add-member':
      await service.addMember(req.member, { host: req.host, port: req.port }, req.asLearner);
      return { added: req.member };
    case 'remove-member':
      await service.removeMember(req.member);
      return { removed: req.member };
    case 'transfer-leader':
      await service.transferLeadership(req.to);
      return { leader: req.to };
    case 'snapshot':
      await service.snapshot();
      return { snapshotIndex: service.status().snapshotIndex };
  }
}
