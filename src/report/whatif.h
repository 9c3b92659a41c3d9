/*
 * whatif.h -- "what would every ARC-driven name answer under these
 * states?": the dry run behind `arcdnsctl what-if east=off`.
 *
 * The current routing-control states (from the mirror) are overridden by
 * the operator's, the policy evaluates them WITHOUT policy_commit(), and
 * for every view and every ARC-driven name of its zone blocks (role names
 * "<region>.<name>" included) the answer is read back from the evaluated
 * zones: the values, SERVFAIL or NODATA. Nothing that is served changes:
 * no table is built or published, no serial is committed or saved, no
 * NOTIFY goes out.
 *
 * Answers, per name (JSON):
 *   {"answer":"values","values":["10.0.1.10","10.0.1.11"]}
 *   {"answer":"SERVFAIL","values":[]}   a needed state is unknown, or
 *                                       when-none-on: servfail
 *   {"answer":"NODATA","values":[]}     when-none-on: nodata
 * Values are text: A and AAAA addresses, CNAME targets as absolute names,
 * TXT character-strings (unquoted, joined by a space). A fenced writer
 * name answers what the policy's fence gate lets it publish now (the gate
 * only reads the fences): under states that move the writer, NODATA, as
 * the daemon would answer until the fence sequence has run.
 *
 * Pure (no I/O, no clock); main thread only, like the policy.
 */
#ifndef REPORT_WHATIF_H
#define REPORT_WHATIF_H

#include <jansson.h>

#include "mirror/mirror.h"

struct conf;
struct policy;
struct zone;

/*
 * The states to evaluate: st[i] for conf control i (st has conf->ncontrols
 * slots) is the mirror's state (m may be NULL: every state unknown),
 * overridden by over (borrowed; NULL or a JSON object of local control
 * name -> "on" | "off", any letter case). Returns 0, or ERR_INVAL with a
 * new message in *errmsg ("unknown control 'x'", "'east' must be on or
 * off", "states must be an object"); st is then unspecified.
 */
int	whatif_states(const struct conf *conf, const struct mirror *m,
	    const json_t *over, enum mirror_state *st, char **errmsg)
	    __attribute__((warn_unused_result));

/*
 * The answer of (owner, type) in an evaluated zone z (borrowed): a new
 * JSON object as described above. owner is lower-case wire format. A name
 * without a node (never for a policy's zones) gives "NXDOMAIN".
 */
json_t	*whatif_answer(const struct zone *z, const uint8_t *owner,
	    uint16_t type);

/*
 * Every (view, ARC-driven name) of conf with its answer in zones (one
 * evaluated zone per zone block, as policy_eval() gives; borrowed): a new
 * JSON array, in view order, then zone block order, then record order, of
 * {"view","zone","name","type","answer","values"}.
 */
json_t	*whatif_answers(const struct conf *conf, struct zone *const *zones);

/*
 * The whole dry run: evaluate p (conf's policy; not committed) for the
 * mirror's states overridden by over, and for the mirror's states alone,
 * and return in *out a new object
 *   {"states":{"east":"Off",...},   every control, as evaluated
 *    "answers":[{"view","zone","name","type",
 *                "now":{"answer","values"},"what-if":{"answer","values"},
 *                "changed":bool}, ...]}
 * The current states are evaluated last, so that the policy's proposal
 * (policy_serial(), policy_changed()) is again the one of the answers
 * being served when this returns. Returns 0, or an error with *errmsg
 * (bad overrides, or an evaluation failed).
 */
int	whatif_run(struct policy *p, const struct conf *conf,
	    const struct mirror *m, const json_t *over, json_t **out,
	    char **errmsg) __attribute__((warn_unused_result));

#endif
