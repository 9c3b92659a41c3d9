/*
 * arcctl_arc.h -- `arcdnsctl arc ...`: read and flip ARC routing controls
 * directly on the cluster, with the daemon's configuration file (arc:
 * endpoints, timeouts, ca-file, credentials, control-panel; controls:
 * for local names) and the daemon's client code (arc_call: curl_ev,
 * creds, SigV4, error classes, endpoint failover). The daemon need not
 * run.
 *
 *   arc list                         every routing control (all pages)
 *   arc get NAME                     one control's state
 *   arc set NAME on|off [--override RULE]...
 *                                    UpdateRoutingControlState
 *   arc failover --from CONTROL --to CONTROL [--override RULE]...
 *                                    ONE UpdateRoutingControlStates call:
 *                                    CONTROL --to On and --from Off,
 *                                    applied together or not at all
 *
 * NAME and CONTROL are local names from controls: (a control given by
 * its ARC name is looked up with one ListRoutingControls call) or
 * routing-control ARNs. RULE is a safety rule's ARN, or its name: a name
 * is matched against the rules a refusal names, and the call is made
 * again with that rule's ARN (rules may surface one at a time, so this
 * repeats while each refusal names a new overridden rule, at most
 * ARCCTL_MAX_OVERRIDE_ROUNDS times).
 *
 * Output: human-readable on stdout by default; with json one JSON object
 * on stdout ({"ok":true,...} or {"ok":false,"error":...}). Errors are
 * also written to stderr as "arcdnsctl: ..." lines in both modes; a
 * safety-rule refusal names the rule ("refused by safety rule NAME
 * (ARN)").
 */
#ifndef CTL_ARCCTL_ARC_H
#define CTL_ARCCTL_ARC_H

#include <stdbool.h>

/* Exit statuses (the same numbers as arcdnsctl's). */
#define ARCCTL_EXIT_OK		0
#define ARCCTL_EXIT_FAIL	1	/* config, endpoints, bad NAME ... */
#define ARCCTL_EXIT_USAGE	2
#define ARCCTL_EXIT_REFUSED	3	/* ConflictException: a safety rule */

#define ARCCTL_MAX_OVERRIDE_ROUNDS	4

/*
 * Run `arc ...`: argv[0] is "arc", argv[1] the subcommand, then its
 * arguments (borrowed; not modified). conf_path: the daemon's config
 * file (non-NULL). Blocks until the call is over (bounded: see
 * arc_call.h). Returns one of ARCCTL_EXIT_*. Calls curl_global_init
 * and curl_global_cleanup itself; sets the log level of the arc source
 * to warn (debug when ARCDNSCTL_DEBUG is set in the environment).
 */
int	arcctl_arc_main(int argc, char **argv, const char *conf_path,
	    bool json);

#endif
