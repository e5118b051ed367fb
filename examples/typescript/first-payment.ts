// The loop of docs/first-payment.md with a generated TypeScript client:
// enroll a customer, read the code from the sandbox inbox, verify, top up,
// mint a QR code with the wallet app's key, and pay with it at a till.
//
// The types come from the document the service serves (GET /openapi), by
// openapi-typescript; the calls go through openapi-fetch. Generate, compile
// and run (see README.md next to this file):
//
//   npx openapi-typescript "$FEDDI_URL/openapi" --default-non-nullable false -o generated/api.d.ts
//   npx tsc -p .
//   FEDDI_URL=http://127.0.0.1:8080 FEDDI_API_KEY=fk_test_… node out/first-payment.js
//
// FEDDI_API_KEY is an operator key of a sandbox integration (the one
// `make run` prints): it pays but cannot mint a customer's QR code, so the
// program makes the wallet app's own qr:mint key with it first. Each step
// checks the answer (HTTP status, the envelope, the fields it relies on) and
// the program exits with status 1 and one line saying what was unexpected.
// On success the last line printed is a JSON summary.
import createClient from "openapi-fetch";
import type { paths } from "./generated/api.js";

// Named types come from paths, not from component schema names, so a
// renamed schema in the document leaves this program alone.
type JSONBody<Op> = Op extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type PaymentBody = JSONBody<paths["/payments"]["post"]>;
type ApiVersion = PaymentBody["meta"]["api_version"];
type Wallet = NonNullable<
  paths["/enroll/verify"]["post"]["responses"][200]["content"]["application/json"]["data"]
>["wallet"];

/** The contract version this program was written against. */
const API_VERSION: ApiVersion = "2026-06-01";
const meta = { api_version: API_VERSION };
const CURRENCY = "EUR";
const WELCOME_GRANT_MINOR = 1500;
const TOPUP_MINOR = 1000;
const PAYMENT_MINOR = 2000;
const TERMINAL_ID = "till-04";

/** A step that did not answer as documented; main prints it and exits 1. */
class FlowError extends Error {}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new FlowError(`${name} is not set`);
  return value;
}

/** A fresh Idempotency-Key: each POST that changes something sends one. */
function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** A random German mobile number in E.164, unless FEDDI_PHONE names one. */
function phoneNumber(): string {
  const given = process.env["FEDDI_PHONE"];
  if (given) return given;
  const digits = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => String(b % 10)).join("");
  return `+49151${digits}`;
}

function expect(step: string, condition: boolean, what: string): asserts condition {
  if (!condition) throw new FlowError(`${step}: ${what}`);
}

/** What the service answered on a failure: its error.code and message. */
function describe(error: unknown): string {
  if (typeof error === "object" && error !== null && "error" in error) {
    const e = (error as { error: { code?: unknown; message?: unknown } | null }).error;
    if (e) return `${String(e.code)}: ${String(e.message)}`;
  }
  return JSON.stringify(error);
}

/** The envelope of every successful answer (docs/conventions.md). */
interface SuccessEnvelope {
  ok: true;
  data: unknown;
  meta: { api_version: string; idempotency_key: string | null; idempotent_replay: boolean };
}

/**
 * The data of a successful answer: HTTP 200, ok: true, the contract version
 * this program speaks and, for a keyed POST, the key it sent, not replayed.
 */
function succeeded<D extends SuccessEnvelope>(
  step: string,
  result: { data?: D; error?: unknown; response: Response },
  sentKey?: string,
): D["data"] {
  const { data, error, response } = result;
  if (data === undefined) {
    throw new FlowError(`${step}: HTTP ${response.status}, ${describe(error)}`);
  }
  expect(step, response.status === 200, `HTTP ${response.status}, expected 200`);
  expect(step, data.ok, "ok is not true");
  expect(step, data.meta.api_version === API_VERSION, `meta.api_version is ${data.meta.api_version}, expected ${API_VERSION}`);
  if (sentKey !== undefined) {
    expect(step, data.meta.idempotency_key === sentKey, `meta.idempotency_key is ${data.meta.idempotency_key}, expected ${sentKey}`);
    expect(step, !data.meta.idempotent_replay, "the answer is a replay of an earlier request");
  }
  return data.data;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  const baseUrl = env("FEDDI_URL").replace(/\/+$/, "");
  // The till (and back office): an operator key, every scope but qr:mint.
  const till = createClient<paths>({ baseUrl, headers: { "X-Api-Key": env("FEDDI_API_KEY") } });
  const phone = phoneNumber();

  // The wallet app's key: qr:mint only. No key holds qr:mint and
  // payments:write together (docs/authentication.md, the consent rule).
  let key = idempotencyKey();
  const appKey = succeeded(
    "create the wallet app's key",
    await till.POST("/auth/keys", {
      params: { header: { "Idempotency-Key": key } },
      body: { meta, data: { name: "Wallet app (first-payment example)", scopes: ["qr:mint"] } },
    }),
    key,
  );
  expect("create the wallet app's key", appKey.api_key !== null, "api_key is null: the secret was not returned");
  expect("create the wallet app's key", appKey.key.scopes.includes("qr:mint"), `scopes are ${appKey.key.scopes.join(",")}`);
  const walletApp = createClient<paths>({ baseUrl, headers: { "X-Api-Key": appKey.api_key } });
  console.log(`created the wallet app's key ${appKey.key.id} (${appKey.key.scopes.join(", ")})`);

  // 0. Enroll: the wallet starts pending_proof, the welcome grant locked.
  key = idempotencyKey();
  const enrollment = succeeded(
    "enroll",
    await till.POST("/enroll/initiate", {
      params: { header: { "Idempotency-Key": key } },
      body: {
        meta,
        data: {
          phone,
          display_name: "Lena K.",
          currency: CURRENCY,
          welcome_grant: { amount_minor: WELCOME_GRANT_MINOR, expires_in_days: 30 },
        },
      },
    }),
    key,
  );
  const walletId = enrollment.wallet.id;
  expect("enroll", enrollment.wallet.status === "pending_proof", `wallet status is ${enrollment.wallet.status}`);
  expect(
    "enroll",
    enrollment.wallet.balance.promo_locked_minor === WELCOME_GRANT_MINOR,
    `promo_locked_minor is ${enrollment.wallet.balance.promo_locked_minor}, expected ${WELCOME_GRANT_MINOR}`,
  );
  console.log(`enrolled ${phone}: customer ${enrollment.customer_id}, wallet ${walletId} (pending_proof)`);

  // The code the SMS carried, from the sandbox inbox (delivery is
  // asynchronous: poll for up to 30 seconds).
  let code: string | undefined;
  for (let attempt = 0; attempt < 60 && code === undefined; attempt++) {
    if (attempt > 0) await sleep(500);
    const inbox = succeeded("read the sandbox inbox", await till.GET("/sandbox/messages", { params: { query: { phone } } }));
    const sms = inbox.items.find((m) => m.kind === "enrollment_verification");
    if (sms) {
      const match = /code is (\d{6})\b/.exec(sms.body);
      expect("read the sandbox inbox", match?.[1] !== undefined, `no 6-digit code in the SMS text ${JSON.stringify(sms.body)}`);
      code = match[1];
    }
  }
  expect("read the sandbox inbox", code !== undefined, `no enrollment SMS reached ${phone} within 30 s`);
  console.log(`read the verification code from the sandbox inbox`);

  // Verify: the wallet becomes verified and the welcome grant available.
  key = idempotencyKey();
  const release = succeeded(
    "verify",
    await till.POST("/enroll/verify", {
      params: { header: { "Idempotency-Key": key } },
      body: { meta, data: { phone, code } },
    }),
    key,
  );
  expectBalance("verify", release.wallet, { status: "verified", actual: 0, promo: WELCOME_GRANT_MINOR });
  console.log(`verified: ${release.released_grants.length} grant(s) released`);

  // Top up 10.00 EUR of actual money, settled by the payment provider.
  key = idempotencyKey();
  const topup = succeeded(
    "top up",
    await till.POST("/topup/confirm", {
      params: { header: { "Idempotency-Key": key } },
      body: {
        meta,
        data: {
          wallet_id: walletId,
          amount_minor: TOPUP_MINOR,
          currency: CURRENCY,
          provider: "adyen",
          settlement_reference: `first-payment-${crypto.randomUUID()}`,
        },
      },
    }),
    key,
  );
  expectBalance("top up", topup.wallet, { status: "verified", actual: TOPUP_MINOR, promo: WELCOME_GRANT_MINOR });
  console.log(`topped up ${TOPUP_MINOR} (transaction ${topup.transaction.id}): spendable ${topup.wallet.balance.spendable_minor}`);

  // 1. The wallet app mints the customer's QR code, with its own key.
  key = idempotencyKey();
  const qr = succeeded(
    "mint a QR code",
    await walletApp.POST("/qr/mint", {
      params: { header: { "Idempotency-Key": key } },
      body: { meta, data: { wallet_id: walletId } },
    }),
    key,
  );
  expect("mint a QR code", qr.qr_payload !== null, "qr_payload is null");
  console.log(`minted a QR code, valid until ${qr.qr_expires_at}`);

  // 3. Pay 20.00 EUR at the till with the QR code: promo first.
  key = idempotencyKey();
  const payment = succeeded(
    "pay",
    await till.POST("/payments", {
      params: { header: { "Idempotency-Key": key } },
      body: {
        meta,
        context: { terminal_id: TERMINAL_ID },
        data: {
          amount_minor: PAYMENT_MINOR,
          currency: CURRENCY,
          credential: { type: "qr", value: qr.qr_payload },
          reference: `basket-${key.slice(0, 8)}`,
        },
      },
    }),
    key,
  );
  expect("pay", payment.status === "captured", `status is ${payment.status}, expected captured`);
  expect("pay", payment.authorized_minor === PAYMENT_MINOR, `authorized_minor is ${payment.authorized_minor}`);
  expect("pay", payment.promo_applied_minor === WELCOME_GRANT_MINOR, `promo_applied_minor is ${payment.promo_applied_minor}`);
  expect(
    "pay",
    payment.actual_applied_minor === PAYMENT_MINOR - WELCOME_GRANT_MINOR,
    `actual_applied_minor is ${payment.actual_applied_minor}`,
  );
  const spendable = TOPUP_MINOR + WELCOME_GRANT_MINOR - PAYMENT_MINOR;
  expect(
    "pay",
    payment.balance_after.spendable_minor === spendable,
    `balance_after.spendable_minor is ${payment.balance_after.spendable_minor}, expected ${spendable}`,
  );
  console.log(
    `paid ${payment.authorized_minor} (${payment.promo_applied_minor} promo, ${payment.actual_applied_minor} actual): ` +
      `payment ${payment.id}, spendable now ${payment.balance_after.spendable_minor}`,
  );

  console.log(
    JSON.stringify({
      wallet_id: walletId,
      payment_id: payment.id,
      status: payment.status,
      spendable_minor: payment.balance_after.spendable_minor,
    }),
  );
}

function expectBalance(step: string, wallet: Wallet, want: { status: Wallet["status"]; actual: number; promo: number }): void {
  const b = wallet.balance;
  expect(step, wallet.status === want.status, `wallet status is ${wallet.status}, expected ${want.status}`);
  expect(step, b.currency === CURRENCY, `currency is ${b.currency}`);
  expect(step, b.actual_minor === want.actual, `actual_minor is ${b.actual_minor}, expected ${want.actual}`);
  expect(step, b.promo_available_minor === want.promo, `promo_available_minor is ${b.promo_available_minor}, expected ${want.promo}`);
  expect(step, b.spendable_minor === want.actual + want.promo, `spendable_minor is ${b.spendable_minor}`);
}

/** One line for an error: a step's complaint, or what failed under it (fetch names its cause). */
function explain(err: unknown): string {
  if (err instanceof FlowError) return err.message;
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
  return `${err.name}: ${err.message}${cause}`;
}

main().catch((err: unknown) => {
  console.error(`first-payment: ${explain(err)}`);
  process.exit(1);
});
