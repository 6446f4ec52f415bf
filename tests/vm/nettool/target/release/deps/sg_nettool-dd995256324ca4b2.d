/work/main/tests/vm/nettool/target/release/deps/sg_nettool-dd995256324ca4b2.d: src/main.rs

/work/main/tests/vm/nettool/target/release/deps/sg_nettool-dd995256324ca4b2: src/main.rs

src/main.rs:
