#!/usr/bin/env node
import "../dist/aws-runas-emulator.js";
