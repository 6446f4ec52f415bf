/work/main/tests/vm/nettool/target/release/sg-nettool: /work/main/tests/vm/nettool/src/main.rs
