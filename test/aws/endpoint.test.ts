import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RunasError } from "@aws-runas/wire/errors.js";
import { endpointFromEnv } from "../../packages/aws-runas/src/aws/endpoint.js";
import { SERVICES, type ServiceName } from "../../packages/aws-runas/src/aws/services.js";

describe("endpointFromEnv", () => {
  test("a value that is not an http(s) URL is a usage error naming the variable (issue 14 item 11)", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ AWS_ENDPOINT_URL: "notaurl" }, /^AWS_ENDPOINT_URL "notaurl" is not an http\(s\) URL$/],
      [{ AWS_ENDPOINT_URL_SSM: "ftp://x" }, /^AWS_ENDPOINT_URL_SSM "ftp:\/\/x" is not/],
      [{ AWS_ENDPOINT_URL: "http://" }, /AWS_ENDPOINT_URL "http:\/\/" is not/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => endpointFromEnv("ssm", env),
        (e: unknown) =>
          e instanceof RunasError &&
          e.exitCode === 2 &&
          message.test(e.message) &&
          /unset it/.test(e.hint ?? ""),
      );
    }
    assert.equal(endpointFromEnv("ssm", { AWS_ENDPOINT_URL: "https://[::1]:4566" }), "https://[::1]:4566");
  });

  test("service-specific variable beats AWS_ENDPOINT_URL", () => {
    const env = { AWS_ENDPOINT_URL: "http://all", AWS_ENDPOINT_URL_SSM: "http://ssm" };
    assert.equal(endpointFromEnv("ssm", env), "http://ssm");
    assert.equal(endpointFromEnv("ec2", env), "http://all");
  });

  test("variable names for every service", () => {
    const expected: Record<ServiceName, string> = {
      ssm: "AWS_ENDPOINT_URL_SSM",
      ec2: "AWS_ENDPOINT_URL_EC2",
      sts: "AWS_ENDPOINT_URL_STS",
      "ec2-instance-connect": "AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT",
      kms: "AWS_ENDPOINT_URL_KMS",
    };
    for (const service of Object.keys(SERVICES) as ServiceName[]) {
      assert.equal(
        endpointFromEnv(service, { [expected[service]]: `http://${service}` }),
        `http://${service}`,
      );
      // The SDK derives the suffix from the service id by upper-casing and joining with "_".
      const sdkStyle = `AWS_ENDPOINT_URL_${SERVICES[service].label.toUpperCase().split(" ").join("_")}`;
      assert.equal(sdkStyle, expected[service]);
    }
  });

  test("nothing set, empty values, or overrides switched off", () => {
    assert.equal(endpointFromEnv("sts", {}), undefined);
    assert.equal(endpointFromEnv("sts", { AWS_ENDPOINT_URL: " " }), undefined);
    assert.equal(
      endpointFromEnv("sts", { AWS_ENDPOINT_URL: "http://x", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "TRUE" }),
      undefined,
    );
  });
});
