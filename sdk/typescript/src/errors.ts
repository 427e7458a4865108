// What a refused call's status says, read into a plain object: its gRPC code and message, and the
// reason, metadata and field violations its details carry.
//
// Every error the API answers carries a google.rpc.ErrorInfo of domain "autosalon" whose reason
// is a stable word (TOKEN_EXPIRED, VEHICLE_NOT_AVAILABLE, ...); bad input (INVALID_ARGUMENT) also
// a google.rpc.BadRequest naming each field at fault. A program acts on the reason, never on the
// message, which may be reworded:
//
//   try {
//     await sales.createOrder({ vehicleId }, signedIn);
//   } catch (error) {
//     const refusal = apiError(error);
//     if (refusal?.reason === Reason.VehicleNotAvailable) { /* offer another car */ }
//     else if (refusal?.reason === Reason.TokenExpired) { /* refresh the token, call again */ }
//     else throw error; // an unknown reason: act on refusal.code
//   }
//
// Over gRPC-web (a browser's, connect-node's) the details arrive in the grpc-status-details-bin
// trailer, which the edge passes through as it does over native gRPC.
import { Code, ConnectError } from "@connectrpc/connect";

import { BadRequestSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";

/** The ErrorInfo domain of the API's own reasons; another domain's (a proxy's) is not read. */
export const DOMAIN = "autosalon";

/**
 * A subset of the reasons (ErrorInfo.reason): those clients act on most. The full list, with the
 * gRPC code each comes with, is the API's proto/autosalon/ERRORS.md; a reason not listed there may
 * be added later: treat an unknown one by its code.
 */
export const Reason = {
  InvalidArgument: "INVALID_ARGUMENT",
  NotFound: "NOT_FOUND",
  Unauthenticated: "UNAUTHENTICATED",
  TokenExpired: "TOKEN_EXPIRED",
  TokenInvalid: "TOKEN_INVALID",
  TokenRevoked: "TOKEN_REVOKED",
  WrongCredentials: "WRONG_CREDENTIALS",
  PermissionDenied: "PERMISSION_DENIED",
  EtagMismatch: "ETAG_MISMATCH",
  Conflict: "CONFLICT",
  RateLimited: "RATE_LIMITED",
  Unavailable: "UNAVAILABLE",
  VehicleNotAvailable: "VEHICLE_NOT_AVAILABLE",
  OrderNotReady: "ORDER_NOT_READY",
  OrderAlreadyPaid: "ORDER_ALREADY_PAID",
  PromoCodeUsedUp: "PROMO_CODE_USED_UP",
  PromoCodeExpired: "PROMO_CODE_EXPIRED",
} as const;

/** A subset of the field violations' own reasons (BadRequest.FieldViolation.reason). */
export const ViolationReason = {
  Required: "REQUIRED",
  Invalid: "INVALID",
  InvalidFormat: "INVALID_FORMAT",
  TooLong: "TOO_LONG",
  OutOfRange: "OUT_OF_RANGE",
} as const;

/** One field's problem, as google.rpc.BadRequest names it. */
export interface Violation {
  field: string;
  description: string;
  /** "" when the API gave none. */
  reason: string;
}

/** A call the API refused or could not answer. */
export interface ApiError {
  /** The gRPC code (Code.NotFound, ...). */
  code: Code;
  /** For people; without the "[not_found]" ConnectError puts in front. */
  message: string;
  /** The ErrorInfo's reason; "" when the status has none (a transport failure, say). */
  reason: string;
  /** What the reason is about (`status`, `vehicle`, ...); empty when absent. */
  metadata: Record<string, string>;
  /** Each field at fault, mostly with INVALID_ARGUMENT. */
  violations: Violation[];
}

/**
 * The refusal `err` reports, or undefined when it is no ConnectError (a mistake of the program's
 * own, not a call's status). A transport failure becomes one with its code and no reason.
 */
export function apiError(err: unknown): ApiError | undefined {
  if (!(err instanceof ConnectError)) {
    return undefined;
  }
  const info = err.findDetails(ErrorInfoSchema).find((detail) => detail.domain === DOMAIN);
  return {
    code: err.code,
    message: err.rawMessage,
    reason: info?.reason ?? "",
    metadata: { ...(info?.metadata ?? {}) },
    violations: err.findDetails(BadRequestSchema).flatMap((badRequest) =>
      badRequest.fieldViolations.map(({ field, description, reason }) => ({ field, description, reason })),
    ),
  };
}

/** Whether `err` is a refusal with that reason: `if (hasReason(error, Reason.TokenExpired)) ...`. */
export function hasReason(err: unknown, reason: string): boolean {
  return reason !== "" && apiError(err)?.reason === reason;
}
