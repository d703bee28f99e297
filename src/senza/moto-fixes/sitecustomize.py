"""
Loaded by every Python started with this directory on PYTHONPATH: the moto_server that
`stups aws-emulator` runs (src/senza/aws-emulator.ts) and the one of the Senza end to end tests
(src/senza/test-support/moto.ts). Fixes the moto 5.2 behaviours that make weighted DNS,
`senza traffic` with two versions, `senza patch` and `respawn-instances` go wrong in the emulator,
instead of bending the product to them. Each fix asserts that the moto code it replaces still
exists: after a moto upgrade that changes it, Python reports "Error in sitecustomize" and both
the emulator command and the tests stop with that message instead of silently emulating less.

1. moto removes Route53 record sets created by CloudFormation by name alone (update, removal from
   a template) or by name and type (stack deletion), ignoring SetIdentifier. Weighted records of
   several stack versions share name and type, so updating the weight in stack 1 or deleting
   stack 1 also removed stack 2's record. AWS touches only the stack's own record (same name,
   type and set identifier).
2. An auto scaling group created by CloudFormation from a launch configuration is described with
   an empty `MixedInstancesPolicy` element (moto passes `{}` when the template has none), so it
   looks like a mixed-instances group. AWS describes such a group without the element.
3. Instances are described with the group's *current* launch configuration or template, not the
   one they were launched with, so after `senza patch` every old instance looks up to date and
   `senza respawn-instances` has nothing to do. AWS keeps the launch specification per instance.
4. CreateLaunchTemplateVersion ignores `SourceVersion`: the new version holds only the data of
   the request (e.g. just UserData, no ImageId). AWS copies the source version and applies the
   request's data over it.
"""

import copy as _copy

from moto.autoscaling import models as _asg
from moto.core.responses import ActionResult as _ActionResult
from moto.ec2.responses import launch_templates as _lt
from moto.ec2.utils import parse_user_data as _parse_user_data
from moto.route53 import models as _r53


def _remove(zone, name, type_, set_identifier):
    zone.rrsets = [
        r
        for r in zone.rrsets
        if not (r.name == name and r.type == type_ and r.set_identifier == set_identifier)
    ]


def _zone(account_id, region_name, zone_name, zone_id):
    backend = _r53.route53_backends[account_id][_r53.get_partition(region_name)]
    zone = backend.get_hosted_zone_by_name(zone_name) if zone_name else None
    return zone if zone is not None else backend.get_hosted_zone(zone_id)


def _update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    original = original_resource
    _remove(
        _zone(account_id, region_name, original.hosted_zone_name, original.hosted_zone_id),
        original.name,
        original.type,
        original.set_identifier,
    )
    return cls.create_from_cloudformation_json(
        new_resource_name, cloudformation_json, account_id, region_name
    )


def _delete_by_json(cls, resource_name, cloudformation_json, account_id, region_name):
    properties = cloudformation_json["Properties"]
    _remove(
        _zone(
            account_id, region_name, properties.get("HostedZoneName"), properties.get("HostedZoneId")
        ),
        resource_name,
        properties.get("Type"),
        properties.get("SetIdentifier"),
    )


def _delete(self, account_id, region):
    _remove(
        _zone(account_id, region, self.hosted_zone_name, self.hosted_zone_id),
        self.name,
        self.type,
        self.set_identifier,
    )


assert hasattr(_r53.RecordSet, "update_from_cloudformation_json"), "moto changed: review the fixes"
assert hasattr(_r53.RecordSet, "delete"), "moto changed: review the fixes"
assert hasattr(_r53.RecordSet, "delete_from_cloudformation_json"), "moto changed: review the fixes"
_r53.RecordSet.update_from_cloudformation_json = classmethod(_update)
_r53.RecordSet.delete_from_cloudformation_json = classmethod(_delete_by_json)
_r53.RecordSet.delete = _delete


_group_init = _asg.FakeAutoScalingGroup.__init__


def _group_without_empty_policy(self, *args, **kwargs):
    _group_init(self, *args, **kwargs)
    if not self.mixed_instances_policy:
        self.mixed_instances_policy = None


_asg.FakeAutoScalingGroup.__init__ = _group_without_empty_policy


_state_init = _asg.InstanceState.__init__


def _state_with_own_launch_spec(self, *args, **kwargs):
    _state_init(self, *args, **kwargs)
    group = self.auto_scaling_group
    template = getattr(group, "ec2_launch_template", None)
    self.launched_with_configuration = getattr(group, "launch_configuration_name", None)
    self.launched_with_template = (
        {
            "LaunchTemplateId": template.id,
            "LaunchTemplateName": template.name,
            "Version": str(group.launch_template_version),
        }
        if template is not None
        else None
    )


assert isinstance(_asg.InstanceState.launch_configuration_name, property), "moto changed"
assert isinstance(_asg.InstanceState.launch_template, property), "moto changed"
_asg.InstanceState.__init__ = _state_with_own_launch_spec
_asg.InstanceState.launch_configuration_name = property(lambda self: self.launched_with_configuration)
_asg.InstanceState.launch_template = property(lambda self: self.launched_with_template)


def _create_version_from_source(self):
    name = self._get_param("LaunchTemplateName")
    template_id = self._get_param("LaunchTemplateId")
    template = (
        self.ec2_backend.get_launch_template(template_id)
        if template_id
        else self.ec2_backend.get_launch_template_by_name(name)
    )
    data = self._get_param("LaunchTemplateData", {})
    if "UserData" in data:
        data["UserData"] = _parse_user_data(data["UserData"])
    source = self._get_param("SourceVersion")
    if source:
        data = {**_copy.deepcopy(template.get_version(source).data), **data}
    self.error_on_dryrun()
    version = template.create_version(data, self._get_param("VersionDescription"))
    return _ActionResult(
        {
            "LaunchTemplateVersion": {
                "CreateTime": version.create_time,
                "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                "DefaultVersion": template.is_default(version),
                "LaunchTemplateData": version.data,
                "LaunchTemplateId": template.id,
                "LaunchTemplateName": template.name,
                "VersionDescription": version.description,
                "VersionNumber": version.number,
            }
        }
    )


assert hasattr(_lt.LaunchTemplates, "create_launch_template_version"), "moto changed"
_lt.LaunchTemplates.create_launch_template_version = _create_version_from_source
