/** Extracts the API's own message and request id from an OpenStack error response. */

/**
 * The message inside an error body, whatever the service's shape:
 * Nova/Cinder `{"badRequest":{"message","code"}}` (any top-level key: conflictingRequest, itemNotFound…),
 * Neutron `{"NeutronError":{"type","message","detail"}}`, Keystone `{"error":{"message","code","title"}}`,
 * Placement `{"errors":[{"title","detail"}]}`; plain text or HTML otherwise.
 */
export function parseApiError(text: string): { apiMessage?: string; apiType?: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const plain = text
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return plain ? { apiMessage: plain.slice(0, 500) } : {};
  }
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const ne = b.NeutronError as { message?: unknown; type?: unknown } | undefined;
  if (ne && typeof ne.message === 'string') return { apiMessage: ne.message, ...(typeof ne.type === 'string' ? { apiType: ne.type } : {}) };
  if (Array.isArray(b.errors)) {
    const msgs = b.errors.map((e: { detail?: unknown; title?: unknown }) => String(e.detail ?? e.title ?? '')).filter(Boolean);
    if (msgs.length) return { apiMessage: msgs.join('; ').slice(0, 1000) };
  }
  if (typeof b.message === 'string') return { apiMessage: b.message };
  const keys = Object.keys(b);
  if (keys.length === 1) {
    const inner = b[keys[0]!] as { message?: unknown } | undefined;
    if (inner && typeof inner === 'object' && typeof inner.message === 'string') return { apiMessage: inner.message, apiType: keys[0]! };
  }
  return { apiMessage: text.slice(0, 500) };
}

/** The request id a service put on its answer (x-openstack-request-id, x-compute-request-id). */
export function requestIdOf(headers: Headers): { requestId?: string } {
  const id = headers.get('x-openstack-request-id') ?? headers.get('x-compute-request-id') ?? headers.get('openstack-request-id');
  return id ? { requestId: id } : {};
}
