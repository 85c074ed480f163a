//! RAM footprint of the core: bytes each task slot costs beyond what the
//! user stores in it (subject and payload).
//!
//! The cost of one slot is measured as the growth of the scheduler when its
//! capacity doubles, so fixed parts (queues, names, counters) cancel out.
//! `examples/firmware/footprint.sh` runs this test and reports the figures;
//! the README's "Embedded" section quotes them.

use core::mem::size_of;

use tardy::{HeaplessQueue, ManualClock, Scheduler, Task};

type Sched<S, P, const N: usize> =
    Scheduler<&'static ManualClock, HeaplessQueue<Task<S, P>, 1>, S, P, N, 2>;

/// Bytes one slot adds: (size at 2N - size at N) / N.
fn per_slot<S: tardy::Subject, P>() -> usize {
    (size_of::<Sched<S, P, 128>>() - size_of::<Sched<S, P, 64>>()) / 64
}

/// Today's per-slot overhead, as a ceiling: a change that makes slots
/// larger fails here and must update the README figures on purpose. With
/// 4-byte user data a slot costs 44 bytes beyond it: in the slot, the
/// queue slot number (2, and 2 of padding), attempt count (4), generation
/// (6) and five links (10: heap position, queue line, subject chain); in
/// the heap, the slot number and key (2 + 16: deadline and tie order, the
/// only place the deadline is kept); a subject bucket (2). Smaller or wider
/// user data adds alignment, up to this ceiling. The feature `periodic`
/// adds a period state to every slot ([`PERIOD_STATE`]).
const CEILING: usize = 44 + PERIOD_STATE;

/// Bytes of a slot's period state (period, next period's index and policy
/// of a periodic task): 16 with the feature `periodic`, none without.
const PERIOD_STATE: usize = if cfg!(feature = "periodic") { 16 } else { 0 };

/// Bytes a `Task` carries for the period of an occurrence of a periodic
/// task (8: index; 4: missed, beside the attempt count), feature
/// `periodic`.
const TASK_PERIOD: usize = if cfg!(feature = "periodic") { 8 } else { 0 };

#[test]
fn per_slot_overhead_beyond_subject_and_payload() {
    let cases = [
        (
            "u32 subject, u32 payload",
            per_slot::<u32, u32>(),
            size_of::<u32>() * 2,
        ),
        (
            "u8 subject, no payload",
            per_slot::<u8, ()>(),
            size_of::<u8>(),
        ),
        (
            "u64 subject, pointer payload",
            per_slot::<u64, usize>(),
            8 + size_of::<usize>(),
        ),
    ];
    for (what, slot, user) in cases {
        let overhead = slot - user;
        println!("footprint: {what}: {slot} bytes per slot, {overhead} beyond subject and payload");
        assert!(slot > user, "a slot holds at least the user's data");
        assert!(
            overhead <= CEILING,
            "{what}: {overhead} bytes per slot beyond the payload (ceiling {CEILING})"
        );
    }
    // A `Task` itself, as it travels through queues and back to its owner
    // (a slot keeps its parts, not the `Task`): handle (8), queue (8: slot
    // number and 48-bit generation), deadline (8), attempt count (4) and
    // alignment, plus the period of an occurrence ([`TASK_PERIOD`]).
    let context = size_of::<Task<u32, u32>>() - 8;
    println!("footprint: task context without subject and payload: {context} bytes");
    assert_eq!(context, 32 + TASK_PERIOD);
}
