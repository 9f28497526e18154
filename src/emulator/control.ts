import type { EmulatorConfigPatch, EmulatorHandle } from './index.js';
import type { ApiResponse } from './webapi/request.js';

const jsonResponse = (status: number, body: unknown): ApiResponse => ({
  status,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});
const problem = (status: number, message: string) => jsonResponse(status, { error: { code: 'emulator', message } });

/**
 * The control API under /_emulator/ (same origin as the Web API) for tests, benchmarks and people:
 * stats, the request log, faults, reset and live configuration. It needs no token.
 */
export async function handleControl(emu: EmulatorHandle, method: string, url: URL, body: string): Promise<ApiResponse> {
  const route = `${method} ${url.pathname.replace(/\/+$/, '')}`;
  const parse = (): unknown => {
    try {
      return JSON.parse(body || '{}');
    } catch {
      throw new Error('The body must be JSON.');
    }
  };
  try {
    switch (route) {
      case 'GET /_emulator/stats':
        return jsonResponse(200, emu.stats());
      case 'GET /_emulator/requests':
        return jsonResponse(200, { requests: emu.requests() });
      case 'POST /_emulator/faults':
        emu.addFault(parse() as Parameters<EmulatorHandle['addFault']>[0]);
        return { status: 204, headers: {} };
      case 'DELETE /_emulator/faults':
        emu.clearFaults();
        return { status: 204, headers: {} };
      case 'POST /_emulator/reset':
        await emu.reset();
        return { status: 204, headers: {} };
      case 'POST /_emulator/config':
        emu.configure(parse() as EmulatorConfigPatch);
        return { status: 204, headers: {} };
      default:
        return problem(
          404,
          `No control endpoint ${route}. Try GET /_emulator/stats, GET /_emulator/requests, POST|DELETE /_emulator/faults, POST /_emulator/reset, POST /_emulator/config.`,
        );
    }
  } catch (err) {
    return problem(400, (err as Error).message);
  }
}
