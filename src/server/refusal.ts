// A request refused with its status and a stable code: the server's error handler answers it as
// JSON `{"error": CODE, "message": TEXT}` (docs/server.md), the same shape on every route.
export class Refusal extends Error {
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}
