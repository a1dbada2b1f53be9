"""Store builder and publishing engine (SPEC M15, P5). A tenant app: its tables live in each
merchant's schema. Blocks, compile and publish arrive with the store-designer capability."""
