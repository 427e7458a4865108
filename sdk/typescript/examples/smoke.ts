// A partner's first purchase through the edge over gRPC-web, the transport a browser has: sign a
// new customer up and in, list the catalogue and create a draft order for the vehicle the first
// argument names. Prints {"user", "models", "order"} as JSON (the protos' field names) on
// stdout; a refused call exits 1 with {"error": {"code", "name", "message", "reason",
// "violations"}} on stderr, read by apiError (src/errors.ts) from the call's status.
//
// The edge is http://127.0.0.1:$AUTOSALON_EDGE_PORT (8080 by default).
import { randomBytes } from "node:crypto";

import { toJson } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";

import { AuthService, UserSchema } from "../gen/autosalon/auth/v1/auth_pb.js";
import { CatalogService, ListModelsResponseSchema } from "../gen/autosalon/catalog/v1/catalog_pb.js";
import { OrderSchema, SalesService } from "../gen/autosalon/sales/v1/sales_pb.js";
import { apiError } from "../src/errors.js";

const password = "Correct-Horse-42";

async function main(vehicleId: string): Promise<void> {
  const transport = createGrpcWebTransport({
    baseUrl: `http://127.0.0.1:${process.env.AUTOSALON_EDGE_PORT ?? "8080"}`,
    httpVersion: "1.1",
  });
  const auth = createClient(AuthService, transport);
  const email = `ts.smoke.${randomBytes(6).toString("hex")}@example.ru`;
  const user = await auth.register({ email, password, confirmPassword: password, fullName: "Ivan Petrov" });
  const tokens = await auth.login({ email, password });
  const signedIn = { headers: { authorization: `Bearer ${tokens.accessToken}` } };

  const models = await createClient(CatalogService, transport).listModels({ pageSize: 5 });
  const order = await createClient(SalesService, transport).createOrder({ vehicleId }, signedIn);

  const asJson = { useProtoFieldName: true };
  console.log(JSON.stringify({
    user: toJson(UserSchema, user, asJson),
    models: toJson(ListModelsResponseSchema, models, asJson),
    order: toJson(OrderSchema, order, asJson),
  }));
}

const vehicleId = process.argv[2];
if (process.argv.length !== 3 || !vehicleId) {
  console.error("usage: smoke <vehicle id>");
  process.exit(2);
}
main(vehicleId).catch((error: unknown) => {
  const refusal = apiError(error);
  if (refusal === undefined) { // no call's status: a fault of the program's own
    console.error(JSON.stringify({ error: { message: String(error) } }));
    process.exit(1);
  }
  const { code, message, reason, violations } = refusal;
  console.error(JSON.stringify({ error: { code, name: Code[code], message, reason, violations } }));
  process.exit(1);
});
