"""Must-pass tests of the orchestration add-on: Heat stacks, CloudFormation stacks."""
