//! Configuration: the TOML schema of SPEC section 3.
