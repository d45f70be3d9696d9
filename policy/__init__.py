"""The reporting platform's CrossGuard policy pack (`pulumi preview --policy-pack policy`) and
the rules it shares with the tests (`policy.rules`)."""
