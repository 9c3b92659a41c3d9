/*
 * fence.pml -- a model of the fence state machine of src/fence/fence.c,
 * checked with spin (tests/model/spin.sh, in make check).
 *
 * One fence, three targets. Everything the real world may do happens in
 * any order, nondeterministically: ARC moves the selection (up to
 * MAXFLIPS times), each hook run succeeds or fails (a failed run may still
 * have done its work, in part), retries run out, the operator confirms a
 * failed step (having done it by hand) or fences by hand, and arcdnsd
 * crashes in the middle of a step and resumes it (fence.c persists every
 * transition before acting on it, so a crash loses only the running
 * hook's outcome).
 *
 * The databases: writable[t] is true when target t accepts writes. The
 * first published target is the primary; a successful fence makes its
 * target read-only, a successful promote makes its target writable, the
 * ready-check passes only on a writable target.
 *
 * Checked in every reachable state:
 *   - a published writer is the only writable target (never two
 *     writers behind the name, and the one behind it takes writes);
 *   - a target is published only if the previously published one was
 *     fenced since (by the hook or, confirmed, by hand): never Y before X
 *     was fenced;
 *   - after a fence, only the target selected at that moment is promoted
 *     (never a standby the selection has moved away from).
 */

#define N		3
#define MAXFLIPS	3
#define RETRIES		1
#define MAXCRASH	1

#define IDLE		0
#define SERVING		1
#define FENCING		2
#define FENCED		3
#define PROMOTING	4
#define CHECKING	5
#define FAILED		6

byte phase = IDLE;
byte step = IDLE;		/* FAILED: the step that failed */
short cur = -1;			/* SERVING: the published target */
short from = -1;
short to = -1;
short desired = -1;
byte attempt = 0;

bool writable[N];
bool cleared[N];		/* fenced since it was last published */
short last_pub = -1;
byte flips = 0;
byte crashes = 0;
bool manual_done = false;

/* What the name answers: a target, or -1 (withdrawn). */
#define PUBLISHED	(phase == SERVING -> cur : -1)

inline publish(p)
{
	assert(last_pub < 0 || last_pub == p || cleared[last_pub]);
	if
	:: last_pub < 0 -> writable[p] = true	/* the first: the primary */
	:: else -> skip
	fi;
	last_pub = p;
	cleared[p] = false;
	cur = p;
	from = -1;
	phase = SERVING
}

inline begin_fencing(f, t)
{
	from = f;
	to = t;
	cur = -1;
	attempt = 1;
	phase = FENCING
}

/* fence.c step_done() */
inline step_done(s)
{
	if
	:: s == FENCING ->
		if
		:: to < 0 && desired >= 0 && desired != from -> to = desired
		:: else -> skip
		fi;
		if
		:: to >= 0 && to == from -> to = -1	/* selected again: hold */
		:: else -> skip
		fi;
		if
		:: to < 0 -> phase = FENCED
		:: else ->
			/* only what is selected now is ever promoted */
			assert(to == desired);
			attempt = 1;
			phase = PROMOTING
		fi
	:: s == PROMOTING || s == CHECKING ->
		if
		:: desired >= 0 && desired != to -> begin_fencing(to, desired)
		:: else ->
			if
			:: s == PROMOTING -> attempt = 1; phase = CHECKING
			:: else -> publish(to)
			fi
		fi
	fi
}

/* fence.c step_failed(): retry, or fail closed */
inline step_failed()
{
	if
	:: attempt <= RETRIES -> attempt++
	:: else -> step = phase; phase = FAILED
	fi
}

/* fence.c fences_update() */
inline update(d)
{
	desired = d;
	if
	:: phase == IDLE -> publish(d)
#ifdef BUG_NO_FENCE
	:: phase == SERVING && d != cur -> writable[d] = true; publish(d)
#else
	:: phase == SERVING && d != cur -> begin_fencing(cur, d)
#endif
	:: phase == FENCING -> to = d
	:: phase == FAILED && step == FENCING -> to = d
	:: phase == FENCED && d != from -> to = d; attempt = 1; phase = PROMOTING
	:: else -> skip
	fi
}

active proctype fence()
{
	short d;

	/* Blocking here (nothing left to happen) is a valid end state. */
end:	do
	/* ARC moves the selection */
	:: atomic { flips < MAXFLIPS ->
		flips++;
		if
		:: d = 0
		:: d = 1
		:: d = 2
		fi;
		update(d) }
	/* the fence hook for from ends */
	:: atomic { phase == FENCING && from >= 0 ->
		if
		:: writable[from] = false; cleared[from] = true;
		   step_done(FENCING)
		:: step_failed()				/* did nothing */
		:: writable[from] = false; step_failed()	/* did it, said no */
		fi }
	:: atomic { phase == FENCING && from < 0 -> step_done(FENCING) }
	/* the promote hook for to ends */
	:: atomic { phase == PROMOTING ->
		if
		:: writable[to] = true; step_done(PROMOTING)
		:: step_failed()
		:: writable[to] = true; step_failed()
		fi }
	/* the ready-check for to ends: passes only on a writable target */
	:: atomic { phase == CHECKING ->
		if
		:: writable[to] -> step_done(CHECKING)
		:: step_failed()
		fi }
	/* arcdnsd crashes during a step and resumes it: the hook may have
	 * done its work or not; the persisted phase is run again */
	:: atomic { crashes < MAXCRASH &&
	    (phase == FENCING || phase == PROMOTING) ->
		crashes++;
		if
		:: phase == FENCING && from >= 0 -> writable[from] = false
		:: phase == PROMOTING -> writable[to] = true
		:: skip
		fi;
		attempt = 1 }
	/* the operator did the failed step by hand and confirms */
	:: atomic { phase == FAILED ->
		if
		:: step == FENCING && from >= 0 ->
			writable[from] = false; cleared[from] = true
		:: step == FENCING && from < 0 -> skip
		:: step == PROMOTING || step == CHECKING -> writable[to] = true
		fi;
		phase = step;
		if
		:: step == FENCING && desired >= 0 -> to = desired
		:: else -> skip
		fi;
		step_done(step) }
	/* fencing by hand, and going on from there */
	:: atomic { phase == SERVING && !manual_done ->
		manual_done = true; begin_fencing(cur, -1) }
	:: atomic { phase == FENCED && desired >= 0 ->
		to = desired; attempt = 1; phase = PROMOTING }
	od
}

/* The invariants, in every reachable state. */
active proctype monitor()
{
	short t;

	atomic {
		if
		:: PUBLISHED >= 0 ->
			assert(writable[PUBLISHED]);
			t = 0;
			do
			:: t < N ->
				assert(t == PUBLISHED || !writable[t]);
				t++
			:: else -> break
			od
		:: else -> skip
		fi
	}
}
