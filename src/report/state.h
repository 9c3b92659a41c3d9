/*
 * state.h -- what the running daemon knows, as answers for the HTTP
 * health responder (http/http.h) and the control socket (ctl/ctlsock.h)
 * alike: one place computes them, both only format.
 *
 * Everything reads struct runtime on the main thread (the loop that runs
 * the ARC client and publishes the answer tables), takes nothing and
 * changes nothing. Costs are O(controls + endpoints + views x zones): no
 * I/O, no wait. The wall clock is read once per call; the _at variants
 * take it (milliseconds since the epoch) for the unit tests.
 *
 * JSON documents are new references (json_decref); strings in them come
 * from the configuration, the mirror and the ARC client, never from the
 * request.
 *
 * report_state(): GET /v1/state, `arcdnsctl status`:
 *   {"identity":"arcdns-east-1","version":"0.6.0","now_ms":N,
 *    "ready":true,"hash":"3f2a...12 hex",
 *    "freshness":{"arc":true,"last_success_ms":N|null,"age_ms":N|null,
 *                 "stale":false,"stale_after_ms":N},
 *    "controls":[{"name":"east","arn":"arn:...","arc_name":"route-..."|null,
 *                 "state":"On|Off|unknown","changed_ms":N|null,
 *                 "endpoint":"us-east-1"|null,"missing":false}],
 *    "endpoints":[{"region":"us-east-1","url":"https://...","healthy":true,
 *                  "fails":0,"last_latency_ms":N,"backoff_until_ms":N|null,
 *                  "requests":N,"ok":N,"errors":{"endpoint":N,
 *                  "throttle":N,"auth":N,"config":N}}],
 *    "zones":[{"view":"default","zone":"svc","origin":"svc.example.",
 *              "serial":N}],
 *    "fences":[...fences_json()...],
 *    "reloads":N,"rebuilds":N}
 * "hash" is the one CH TXT state.arcdns. shows (dns/table.h,
 * table_state_hash() of the published table); without a table yet it is
 * "". "freshness.arc" is false when no arc: section is configured (then
 * controls and endpoints are empty, the other freshness fields null and
 * stale false). Times are wall-clock ms since the epoch; changed_ms is
 * null for a control never seen, endpoint null for one restored from the
 * state file. controls are in config order, endpoints in config order
 * (not the polling order), zones by view then by the view's zone order.
 */
#ifndef REPORT_STATE_H
#define REPORT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct runtime;

/* The "controls" array of report_state(). New reference. */
json_t	*report_controls(const struct runtime *rt);

/* GET /v1/state; see above. New reference, never NULL. */
json_t	*report_state(const struct runtime *rt);
json_t	*report_state_at(const struct runtime *rt, uint64_t now_ms);

/*
 * GET /readyz. *ready is true only when (a) the ARC mirror is fresh (a
 * poll succeeded within arc.stale-after), (b) every configured control
 * has a known state and (c) no fence failed closed (add_fence_reasons()
 * in state.c). Without an arc: section (a) and (b) hold trivially.
 * Returns {"ready":bool,"reasons":[...]}, every reason an object
 * {"reason":CODE,"message":TEXT} plus "control":NAME or "fence":NAME
 * where one is concerned. CODEs:
 *   "arc-off"         arc: is configured but the ARC client is not
 *                     running (its start failed; see the log)
 *   "mirror-never"    no poll has succeeded yet and nothing is known
 *                     from the state file
 *   "mirror-stale"    no poll succeeded within stale-after ms
 *   "control-unknown" a control has no known state (never listed)
 *   "fence-failed"    a fence failed closed: its writer names stay
 *                     withdrawn until arcdnsctl fence confirm
 */
json_t	*report_ready(const struct runtime *rt, bool *ready);
json_t	*report_ready_at(const struct runtime *rt, uint64_t now_ms,
	    bool *ready);

/*
 * GET /v1/controls/<name>: 200 when the control with that local name is
 * On, 503 when it is Off or its state is unknown, 404 when no control
 * has that name. The last known state counts even while the mirror is
 * stale (static stability; /readyz tells staleness).
 * report_control_doc() also gives the body (new reference):
 * {"control":"east","state":"On|Off|unknown","stale":bool}, plus
 * "reason":TEXT when the state is unknown; NULL for 404.
 */
int	report_control(const struct runtime *rt, const char *name);
json_t	*report_control_doc(const struct runtime *rt, const char *name,
	    int *status);

/*
 * GET /v1/regions/<region>: the control of the first record target
 * naming region (policy_region_control()): 200 On (the region is
 * active), 503 Off or unknown, 404 when no target names region. Body
 * (new reference, NULL for 404): {"region":R,"control":NAME,
 * "state":"On|Off|unknown","stale":bool}.
 */
int	report_region(const struct runtime *rt, const char *region);
json_t	*report_region_doc(const struct runtime *rt, const char *region,
	    int *status);

/*
 * GET /v1/role/<region>: what the role records say of region under the
 * current states (policy_role()): 200 with *text "active" or "passive",
 * 404 ("no role record names this region") when none names it, 503
 * ("unknown") when the decision needs an unknown state (or no target is
 * On and when-none-on is servfail or nodata). *text is a static string.
 */
int	report_role(const struct runtime *rt, const char *region,
	    const char **text);

#endif
