//! Herald's BGP speaker: codec glue, session FSM, RIB-out.
